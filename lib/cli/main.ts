import { parseArgs } from 'node:util';
import { emails } from './commands/emails';
import { licenses } from './commands/licenses';
import { send } from './commands/send';
import { verify } from './commands/verify';
import { keysGenerate } from './commands/keys';
import { CliError, createOutput } from './output';

const USAGE = `keysmith — fulfillment gateway CLI

Usage:
  keysmith send <provider> [--event NAME] [--file F] [--url U] [--email E] [--order ID]
      Sign a sample (or the given payload) and POST it to the local stack (or --url).
  keysmith licenses (--order ID | --email EMAIL | --key KEY) [--provider P]
      Find licenses in the local stack.
  keysmith emails [--to EMAIL]
      Emails the local stack captured.
  keysmith verify <token> [--public-key FILE] [--product P]
      Check a signed license offline (exit 3 when invalid).
  keysmith keys generate [--out PREFIX]
      A new Ed25519 signing key pair and license secret.

Options:
  --json   machine-readable output
  --help   this text

The local stack is found on 127.0.0.1:$PORT (default 3000), as \`npm start\` uses.`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      event: { type: 'string' },
      file: { type: 'string' },
      url: { type: 'string' },
      email: { type: 'string' },
      order: { type: 'string' },
      key: { type: 'string' },
      provider: { type: 'string' },
      to: { type: 'string' },
      'public-key': { type: 'string' },
      product: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const out = createOutput(values.json ?? false);
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 1;
  }
  switch (command) {
    case 'send':
      if (!rest[0]) throw new CliError('usage: keysmith send <provider> [--event NAME] [--file F] [--url U]');
      await send({ provider: rest[0], ...pick(values, ['event', 'file', 'url', 'email', 'order']) }, out);
      return 0;
    case 'licenses':
      await licenses(pick(values, ['order', 'email', 'key', 'provider']), out);
      return 0;
    case 'emails':
      await emails(pick(values, ['to']), out);
      return 0;
    case 'verify':
      if (!rest[0]) throw new CliError('usage: keysmith verify <token> [--public-key FILE] [--product P]');
      await verify({ token: rest[0], ...(values['public-key'] ? { publicKey: values['public-key'] } : {}), ...pick(values, ['product']) }, out);
      return 0;
    case 'keys':
      if (rest[0] !== 'generate') throw new CliError('usage: keysmith keys generate [--out PREFIX]');
      await keysGenerate(pick(values, ['out']), out);
      return 0;
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

function pick<T extends Record<string, unknown>, K extends keyof T>(values: T, keys: K[]): { [P in K]?: Exclude<T[P], undefined> } {
  const out: Partial<T> = {};
  for (const key of keys) if (values[key] !== undefined) out[key] = values[key];
  return out as { [P in K]?: Exclude<T[P], undefined> };
}

/** Entry used by bin/keysmith.cjs. */
export function run(argv = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`keysmith: ${message}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
    },
  );
}
