import { parseArgs } from 'node:util';
import { deliveries } from './commands/deliveries';
import { dlqList, dlqRedrive, dlqShow } from './commands/dlq';
import { doctor } from './commands/doctor';
import { emails } from './commands/emails';
import { keysGenerate } from './commands/keys';
import { licenses } from './commands/licenses';
import { licenseAction, resend } from './commands/manage';
import { replay } from './commands/replay';
import { secretsSet } from './commands/secrets';
import { send } from './commands/send';
import { show } from './commands/show';
import { verify } from './commands/verify';
import { parseTimeout } from './manual';
import { CliError, createOutput, EXIT, usageError } from './output';
import { resolveTarget, type Target, type TargetOptions } from './target';

const USAGE = `keysmith — fulfillment gateway CLI

Usage:
  keysmith send <provider> [--event NAME] [--file F] [--url U] [--email E] [--order ID]
      Sign a sample (or the given payload) and POST it to the stack (or --url).
  keysmith licenses (--order ID | --email EMAIL | --key KEY) [--provider P]
      Find licenses.
  keysmith show <license-id>
      A license with its history, its order and every event applied to the order.
  keysmith revoke|suspend|reinstate <license-id> --reason TEXT [--no-wait] [--timeout S]
      Change one license through the queue (recorded in its history); waits for the worker.
  keysmith resend <order> [--provider P] [--license ID] [--reason TEXT] [--no-wait] [--timeout S]
      Email the customer their active licenses again.
  keysmith deliveries [--provider P] [--since 24h|ISO] [--until ISO] [--status S] [--order ID] [--limit N]
      Verified webhook requests, newest first, with what became of them
      (status: applied, pending, problem, empty).
  keysmith replay <delivery-id> [--provider P] [--force] [--no-wait] [--timeout S]
      Enqueue a recorded delivery again with the same event ids (a no-op if it was applied);
      --force also re-sends the license email.
  keysmith dlq list [--limit N]
  keysmith dlq show <message-id>
  keysmith dlq redrive (--all | --id MESSAGE) [--rate N] [--no-wait] [--timeout S]
      The dead-letter queue: decoded events with their last error; back to the queue.
  keysmith secrets set <NAME> [--from-file F] [--force]
      Store a secret (value from the file or stdin, never shown): Secrets Manager with
      --stack, the local dev secrets file otherwise.
  keysmith doctor
      Secrets, SES identity and sandbox, queues, DLQ, alarms: one verdict per line.
  keysmith emails [--to EMAIL]
      Emails the local stack captured (local only).
  keysmith verify <token> [--public-key FILE] [--product P] [--allow-test]
      Check a signed license offline. A TEST license (issued for a provider test order)
      is refused unless --allow-test.
  keysmith keys generate [--out PREFIX]
      A new Ed25519 signing key pair and license secret.

Target (every command but verify and keys):
  (default)              the local stack on 127.0.0.1:$PORT (default 3000), as \`npm start\` uses
  --stack NAME           a deployed stack (or KEYSMITH_STACK): resources from its CloudFormation
  --region R             outputs, credentials from the standard AWS chain (AWS_PROFILE, …)

Options:
  --json     machine-readable output on stdout (progress and notes go to stderr)
  --help     this text

Exit codes:
  0 ok   1 failed   2 bad arguments   3 license invalid (verify)   4 not found
  5 timed out waiting for the worker   6 stack unreachable (not running, no such stack, no credentials)`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  stack: { type: 'string' },
  region: { type: 'string' },
  event: { type: 'string' },
  file: { type: 'string' },
  url: { type: 'string' },
  email: { type: 'string' },
  order: { type: 'string' },
  key: { type: 'string' },
  provider: { type: 'string' },
  to: { type: 'string' },
  'public-key': { type: 'string' },
  'allow-test': { type: 'boolean', default: false },
  product: { type: 'string' },
  out: { type: 'string' },
  reason: { type: 'string' },
  license: { type: 'string' },
  'no-wait': { type: 'boolean', default: false },
  timeout: { type: 'string' },
  force: { type: 'boolean', default: false },
  since: { type: 'string' },
  until: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean', default: false },
  id: { type: 'string' },
  rate: { type: 'string' },
  'from-file': { type: 'string' },
} as const;

/** Seconds the CLI waits for the worker by default (a healthy stack needs well under one). */
const DEFAULT_WAIT_SECONDS = 60;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    throw usageError(`${(error as Error).message}\n\nRun \`keysmith --help\` for usage.`);
  }
  const { values, positionals } = parsed;
  const out = createOutput(values.json ?? false);
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? EXIT.ok : EXIT.usage;
  }
  const targetOptions: TargetOptions = pick(values, ['stack', 'region']);
  // One target per run, made on first use and closed at the end.
  let made: Promise<Target> | undefined;
  const target = (): Promise<Target> => (made ??= resolveTarget(targetOptions));
  const wait = !values['no-wait'];
  const timeoutSeconds = parseTimeout(values.timeout, DEFAULT_WAIT_SECONDS);
  const arg = (usage: string): string => {
    if (!rest[0]) throw usageError(`usage: keysmith ${usage}`);
    return rest[0];
  };

  try {
    switch (command) {
      case 'send':
        await send({ provider: arg('send <provider> [--event NAME] [--file F] [--url U]'), ...pick(values, ['event', 'file', 'url', 'email', 'order']) }, targetOptions, out);
        break;
      case 'licenses':
        await licenses(pick(values, ['order', 'email', 'key', 'provider']), target, out);
        break;
      case 'show':
        await show({ license: arg('show <license-id>') }, target, out);
        break;
      case 'revoke':
      case 'suspend':
      case 'reinstate':
        await licenseAction(command, arg(`${command} <license-id> --reason TEXT`), { ...pick(values, ['reason']), wait, timeoutSeconds }, target, out);
        break;
      case 'resend':
        await resend(arg('resend <order> [--provider P] [--license ID]'), { ...pick(values, ['reason', 'provider', 'license']), wait, timeoutSeconds }, target, out);
        break;
      case 'deliveries':
        await deliveries(pick(values, ['provider', 'since', 'until', 'status', 'limit', 'order']), target, out);
        break;
      case 'replay':
        await replay(arg('replay <delivery-id> [--force]'), { ...pick(values, ['provider']), force: values.force ?? false, wait, timeoutSeconds }, target, out);
        break;
      case 'dlq':
        if (rest[0] === 'list') await dlqList(pick(values, ['limit']), target, out);
        else if (rest[0] === 'show') {
          if (!rest[1]) throw usageError('usage: keysmith dlq show <message-id>');
          await dlqShow(rest[1], target, out);
        } else if (rest[0] === 'redrive') {
          await dlqRedrive({ all: values.all ?? false, ...pick(values, ['id', 'rate']), wait, timeoutSeconds: values.timeout ? timeoutSeconds : 600 }, target, out);
        } else throw usageError('usage: keysmith dlq list | show <message-id> | redrive (--all | --id MESSAGE)');
        break;
      case 'secrets':
        if (rest[0] !== 'set' || !rest[1]) throw usageError('usage: keysmith secrets set <NAME> [--from-file F]');
        await secretsSet(rest[1], { ...fromFile(values['from-file']), force: values.force ?? false }, targetOptions, target, out);
        break;
      case 'doctor':
        await doctor(targetOptions, out);
        break;
      case 'emails':
        if (targetOptions.stack ?? process.env.KEYSMITH_STACK) throw usageError('emails reads the local SES emulator; for a deployed stack, `keysmith show <license-id>` gives each email’s status and SES message id');
        await emails(pick(values, ['to']), out);
        break;
      case 'verify':
        await verify(
          {
            token: arg('verify <token> [--public-key FILE] [--product P] [--allow-test]'),
            ...(values['public-key'] ? { publicKey: values['public-key'] } : {}),
            ...pick(values, ['product']),
            ...(values['allow-test'] ? { allowTest: true } : {}),
          },
          out,
        );
        break;
      case 'keys':
        if (rest[0] !== 'generate') throw usageError('usage: keysmith keys generate [--out PREFIX]');
        await keysGenerate(pick(values, ['out']), out);
        break;
      default:
        throw usageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } finally {
    if (made) await made.then((t) => t.close(), () => undefined);
  }
  return EXIT.ok;
}

function fromFile(value: string | undefined): { fromFile?: string } {
  return value === undefined ? {} : { fromFile: value };
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
      process.exitCode = error instanceof CliError ? error.exitCode : EXIT.failed;
    },
  );
}
