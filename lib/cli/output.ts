import { withoutTerminalControls } from '../../functions/domain/terminalText';
/** Human output by default, `--json` for scripts; errors go to stderr with a non-zero exit. */

/**
 * Exit codes. Scripts can switch on them; every failure also prints one line on stderr.
 * 0 and "non-zero on failure" are the contract; the specific codes below are stable too.
 */
export const EXIT = {
  ok: 0,
  /** The operation failed or found problems (doctor ✘, a license not changed as asked, …). */
  failed: 1,
  /** Bad arguments or options. */
  usage: 2,
  /** `verify`: the license is not valid. */
  invalid: 3,
  /** The license, order, delivery or DLQ message does not exist. */
  notFound: 4,
  /** Enqueued, but the worker had not applied it when `--timeout` ran out. */
  timeout: 5,
  /** The stack cannot be reached: no local stack running, no such CloudFormation stack, no credentials. */
  unreachable: 6,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
export const notFound = (message: string): CliError => new CliError(message, EXIT.notFound);

export interface Output {
  json: boolean;
  /** Print a result: JSON as-is with `--json`, else the human rendering. */
  result(value: unknown, human: () => string): void;
  /** Progress and notes for humans: stderr, so `--json` output stays clean. */
  note(message: string): void;
  /** A bar (TTY) or periodic lines (pipes, CI) on stderr for long work. */
  progress(label: string, total?: number): Progress;
}

export interface Progress {
  /** Set the absolute count done (and, when it became known, the total). */
  update(done: number, total?: number): void;
  /** Add to the count done. */
  tick(by?: number): void;
  /** Finish the bar with a closing line. */
  done(message?: string): void;
}

export function createOutput(json: boolean, stderr: NodeJS.WriteStream = process.stderr): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${safeJson(value)}\n` : `${sanitize(human())}\n`);
    },
    note(message) {
      stderr.write(`${sanitize(message)}\n`);
    },
    progress: (label, total) => createProgress(stderr, label, total),
  };
}

/** How often a non-TTY progress prints a line. */
const LINE_EVERY_MS = 2000;
const BAR_WIDTH = 24;

/**
 * A dependency-free progress indicator. On a terminal it redraws one line (`\r`); elsewhere it
 * prints a line at most every two seconds, and a closing line, so CI logs show the work moving
 * without thousands of lines.
 */
export function createProgress(stream: NodeJS.WriteStream, label: string, initialTotal?: number): Progress {
  const tty = stream.isTTY === true;
  let done = 0;
  let total = initialTotal;
  let lastLine = 0;
  let finished = false;
  const started = Date.now();

  const text = (): string => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (total === undefined || total <= 0) return `${label}: ${done} (${seconds} s)`;
    const ratio = Math.min(1, done / total);
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = tty ? `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ` : '';
    return `${label}: ${bar}${done}/${total} (${Math.round(ratio * 100)}%, ${seconds} s)`;
  };
  const draw = (force = false): void => {
    if (finished) return;
    if (tty) {
      stream.write(`\r\x1b[2K${text()}`);
      return;
    }
    const now = Date.now();
    if (force || now - lastLine >= LINE_EVERY_MS) {
      lastLine = now;
      stream.write(`${text()}\n`);
    }
  };
  // The first non-TTY line waits a moment: quick work prints only its closing line.
  lastLine = tty ? 0 : Date.now();
  if (tty) draw();

  return {
    update(value, newTotal) {
      done = value;
      if (newTotal !== undefined) total = newTotal;
      draw();
    },
    tick(by = 1) {
      done += by;
      draw();
    },
    done(message) {
      if (finished) return;
      const line = message ?? text();
      finished = true;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}

/** A plain text table: columns padded to their widest cell. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  // A cell is one line: a customer's name with a newline must not forge a row.
  rows = rows.map((r) => r.map((cell) => sanitize(cell ?? '', { singleLine: true })));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `2024-05-01T10:00:00.000Z` → `2024-05-01 10:00:00`; anything else unchanged. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso;
}

// ---- terminal safety ------------------------------------------------------------------------

/**
 * Text for a terminal: escape sequences (clipboard writes, screen clears, hyperlinks, cursor
 * moves) and control characters removed. Every human output of the CLI passes through here, so
 * a customer name or a provider's answer cannot drive the operator's terminal. `singleLine` also
 * turns newlines and tabs into spaces (table cells, one-line values).
 */
export function sanitize(text: string, options: { singleLine?: boolean } = {}): string {
  const cleaned = withoutTerminalControls(text);
  return options.singleLine ? cleaned.replace(/[\t\n]/g, ' ') : cleaned;
}

/**
 * JSON for stdout. JSON.stringify escapes C0 controls but leaves DEL, C1 and bidi controls raw in
 * strings; those are written as `\uXXXX` escapes too — the same JSON value, nothing a terminal acts on.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
