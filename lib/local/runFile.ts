import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * `<stateDir>/local.json`: written by `npm start` once its API listens, removed when it stops.
 * The CLI reads it to find the running local stack without being told its PORT (a stack started
 * with PORT=0 or PORT=3103 is found all the same). A file left by a process that died is
 * recognised by its pid and ignored.
 */

export const RUN_FILE = 'local.json';

export interface RunFile {
  pid: number;
  port: number;
  url: string;
  startedAt: string;
}

export function runFilePath(stateDir: string = '.keysmith'): string {
  return resolve(stateDir, RUN_FILE);
}

export function writeRunFile(stateDir: string, run: RunFile): void {
  const file = runFilePath(stateDir);
  mkdirSync(resolve(stateDir), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(run, null, 2)}\n`);
  renameSync(partial, file);
}

/** Removes the file if this process (pid) wrote it: a newer stack's file stays. */
export function removeRunFile(stateDir: string, pid: number = process.pid): void {
  const run = readRunFile(stateDir);
  if (run?.pid === pid) rmSync(runFilePath(stateDir), { force: true });
}

export function readRunFile(stateDir: string = '.keysmith'): RunFile | undefined {
  const file = runFilePath(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const run = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunFile>;
    if (!Number.isInteger(run.pid) || !Number.isInteger(run.port) || typeof run.url !== 'string') return undefined;
    return run as RunFile;
  } catch {
    return undefined;
  }
}

/** The running stack the file names, or undefined when there is none or its process is gone. */
export function findRunningStack(stateDir: string = '.keysmith', alive: (pid: number) => boolean = isAlive): RunFile | undefined {
  const run = readRunFile(stateDir);
  return run && alive(run.pid) ? run : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
