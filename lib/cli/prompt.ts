import { CliError, EXIT } from './output';

/**
 * Questions to the person at the terminal: a hidden value (`secrets set`) and a yes/no
 * (`send --stack`). Both take their streams as arguments so tests can hand in a fake terminal
 * that records raw mode and what was written.
 */

/** The parts of process.stdin the prompts use. */
export interface PromptInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any listener an EventEmitter takes
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PromptOutput {
  write(text: string): unknown;
}

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = /[\u007f\b]/;
/** Bracketed paste markers some terminals wrap a paste in. */
const PASTE_MARKERS = /\u001b\[20[01]~/g;

/**
 * A secret value. Piped stdin (no terminal) is read to its end, as before. On a terminal the
 * value is read in raw mode, so the terminal does not echo it, and nothing is written back per
 * key. Enter ends a one-line value; a PEM block goes on to its `-----END …-----` line and a JSON
 * value until it parses, so a pasted key or offer table arrives whole. Ctrl-D ends any value,
 * Ctrl-C cancels, Backspace deletes. The terminal is always put back to its normal mode.
 */
export function readHidden(input: PromptInput, output: PromptOutput, prompt: string): Promise<string> {
  if (!input.isTTY || typeof input.setRawMode !== 'function') return readAll(input);
  return new Promise((resolve, reject) => {
    let value = '';
    output.write(prompt);
    const finish = (error?: Error): void => {
      input.removeListener('data', onData);
      input.setRawMode!(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      const text = chunk.toString().replace(PASTE_MARKERS, '');
      for (const char of text) {
        if (char === CTRL_C) return finish(new CliError('cancelled', EXIT.failed));
        if (char === CTRL_D) return finish();
        if (BACKSPACE.test(char)) {
          value = [...value].slice(0, -1).join('');
          continue;
        }
        if (char === '\r' || char === '\n') {
          if (complete(value)) return finish();
          value += '\n';
          continue;
        }
        value += char;
      }
    };
    input.setRawMode!(true);
    input.on('data', onData);
    input.resume();
  });
}

/** Whether Enter ends the value typed so far. */
function complete(value: string): boolean {
  const text = value.trim();
  if (text.startsWith('-----BEGIN')) return /-----END [^-]+-----$/.test(text);
  if (text.startsWith('{')) {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A yes/no question on a terminal; `undefined` without one (the caller decides what that means —
 * `send --stack` refuses without `--yes`). Only `y` or `yes` is a yes.
 */
export function confirm(input: PromptInput, output: PromptOutput, question: string): Promise<boolean | undefined> {
  if (!input.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let line = '';
    output.write(`${question} [y/N] `);
    const done = (answer: boolean): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.pause();
      resolve(answer);
    };
    const onData = (chunk: Buffer | string): void => {
      line += chunk.toString();
      if (line.includes('\n') || line.includes('\r')) done(/^\s*y(es)?\s*$/i.test(line.split(/[\r\n]/)[0]!));
    };
    const onEnd = (): void => done(false);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}

function readAll(input: PromptInput): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    input.on('data', (chunk) => chunks.push(Buffer.from(chunk)));
    input.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    input.on('error', reject);
    input.resume();
  });
}
