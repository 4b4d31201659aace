import { parseArgs } from 'node:util';
import { CliError, EXIT, usageError } from './output';

/**
 * Per-command option parsing with messages for people: an option the command does not take, a
 * missing value or a typo exits 2 with one line that names the command and, when close enough,
 * what was probably meant — never Node's raw parser text.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against `allowed`. `command` names the command for messages (`licenses`; empty
 * before a command).
 * Unknown options, missing values and values given to flags are usage errors (exit 2).
 */
export function parseCommandArgs(argv: string[], allowed: OptionSpecs, command: string): Parsed {
  const where = command ? `${command}: ` : '';
  const help = command ? `keysmith ${command} --help` : 'keysmith --help';
  // A tolerant pass first: its tokens say exactly which option is wrong and how.
  const { tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options: allowed });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = allowed[token.name];
    const shown = token.rawName;
    if (!spec) {
      const guess = suggest(token.name, Object.keys(allowed));
      throw usageError(`${where}unknown option ${shown}${guess ? `; did you mean --${guess}?` : ''}\nRun \`${help}\` for the options.`);
    }
    if (spec.type === 'string' && token.value === undefined) throw usageError(`${where}${shown} needs a value (${shown} VALUE)`);
    if (spec.type === 'boolean' && token.inlineValue) throw usageError(`${where}${shown} is a flag and takes no value`);
  }
  // A string option followed by another option (`--order --json`) is taken as a value by the
  // tolerant pass; the strict pass refuses it. Anything it still refuses is said plainly.
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: allowed });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.replace(/ To specify an option argument starting with a dash.*$/, '');
    throw usageError(`${where}${message}`);
  }
}

/** The closest candidate within a small edit distance (or a unique prefix), if any. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Short words get one edit, longer ones two (or a third of their length): close, not anything.
  const limit = Math.max(1, Math.min(3, Math.floor(lower.length / 3)));
  if (best !== undefined && bestDistance <= limit) return best;
  const prefixed = candidates.filter((c) => lower.length >= 2 && c.toLowerCase().startsWith(lower));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Damerau–Levenshtein (optimal string alignment): a swapped pair of letters is one edit. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** `--timeout S`: a positive number of seconds, else `fallback`. */
export function parseTimeout(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError(`--timeout must be a number of seconds, not "${value}"`, EXIT.usage);
  return seconds;
}
