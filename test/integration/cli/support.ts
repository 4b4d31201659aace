import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The CLI as a user runs it: `node bin/keysmith.cjs …` in a child process, pointed at a local
 * stack by PORT. Exit code, stdout and stderr are what the tests assert on.
 */

export const ROOT = resolve(__dirname, '../../..');
const BIN = resolve(ROOT, 'bin/keysmith.cjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for `--json` runs). */
  json<T = unknown>(): T;
}

/** Bundle the CLI once before the tests run it in parallel (bin/build.cjs builds lazily). */
export function buildCli(): void {
  execFileSync(process.execPath, [BIN, '--help'], { cwd: ROOT, stdio: 'ignore', env: cliEnv({}) });
}

export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
  delete env.KEYSMITH_STACK;
  for (const [name, value] of Object.entries(extra)) if (value === undefined) delete env[name];
  return env;
}

export function cli(args: string[], options: { port?: number; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: cliEnv({ ...(options.port !== undefined ? { PORT: String(options.port) } : {}), ...options.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolvePromise({
        code: code ?? -1,
        stdout,
        stderr,
        json: <T>() => {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`not JSON (exit ${code}):\n${stdout}\n--- stderr:\n${stderr}`);
          }
        },
      });
    });
    child.stdin.end(options.input ?? '');
  });
}
