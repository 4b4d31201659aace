import type { Output, Progress } from '../cli/output';

/**
 * An `Output` that keeps what a CLI operation reports instead of printing it: the console runs
 * the CLI's own operations (lib/cli/commands/*) and shows their `--json` result and notes, so a
 * revoke from the page is the revoke the CLI does, checks and messages included.
 */
export interface Captured<T> {
  out: Output;
  /** The operation's result, as `--json` would print it. */
  result(): T;
  notes: string[];
}

const SILENT: Progress = { update: () => undefined, tick: () => undefined, done: () => undefined };

export function capture<T>(): Captured<T> {
  let value: { set: false } | { set: true; value: unknown } = { set: false };
  const notes: string[] = [];
  return {
    out: {
      json: true,
      result(v) {
        value = { set: true, value: v };
      },
      note(message) {
        notes.push(message);
      },
      progress: () => SILENT,
    },
    result() {
      if (!value.set) throw new Error('the operation reported no result');
      return value.value as T;
    },
    notes,
  };
}

/** Runs `operation` with a capturing output and returns its result. */
export async function run<T>(operation: (out: Output) => Promise<void>): Promise<{ value: T; notes: string[] }> {
  const c = capture<T>();
  await operation(c.out);
  return { value: c.result(), notes: c.notes };
}
