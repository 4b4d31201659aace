/** Human output by default, `--json` for scripts; errors go to stderr with a non-zero exit. */

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Output {
  json: boolean;
  /** Print a result: JSON as-is with `--json`, else the human rendering. */
  result(value: unknown, human: () => string): void;
  /** Progress and notes for humans: stderr, so `--json` output stays clean. */
  note(message: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    note(message) {
      process.stderr.write(`${message}\n`);
    },
  };
}

/** A plain text table: columns padded to their widest cell. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
