import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { type OptionSpecs, type Parsed, parseCommandArgs, parseTimeout, suggest } from './args';
import { CliError, createOutput, EXIT, type Output, sanitize, usageError } from './output';
import type { Target, TargetOptions } from './target';

/**
 * The command table: each command names its own options, its help text and how it runs. Command
 * modules (and through them the AWS SDK clients) are imported when their command runs, not at
 * start: `keysmith --help`, `verify` or `keys generate` load none of the SDK.
 */

/** Options every command takes. */
const GLOBAL: OptionSpecs = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  stack: { type: 'string' },
  region: { type: 'string' },
};

const WAIT: OptionSpecs = { 'no-wait': { type: 'boolean' }, timeout: { type: 'string' } };
const str = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;

/** Seconds the CLI waits for the worker by default (a healthy stack needs well under one). */
const DEFAULT_WAIT_SECONDS = 60;

interface Context {
  values: Parsed['values'];
  /** Positionals after the command name. */
  rest: string[];
  out: Output;
  targetOptions: TargetOptions;
  /** The target, made on first use and closed after the command. */
  target: () => Promise<Target>;
  /** The first positional, or a usage error showing `usage`. */
  arg(usage: string): string;
  wait: boolean;
  timeoutSeconds: number;
}

interface Command {
  /** Usage lines (the first is the synopsis) and what it does. */
  help: string;
  options: OptionSpecs;
  run(ctx: Context): Promise<void>;
}

const LICENSE_ACTION: Omit<Command, 'help'> = {
  options: { reason: str, ...WAIT },
  async run(ctx) {
    const action = ctx.values.command as 'revoke' | 'suspend' | 'reinstate';
    const { licenseAction } = await import('./commands/manage');
    await licenseAction(action, ctx.arg(`${action} <license-id> --reason TEXT`), { ...pick(ctx.values, ['reason']), wait: ctx.wait, timeoutSeconds: ctx.timeoutSeconds }, ctx.target, ctx.out);
  },
};

const COMMANDS: Record<string, Command> = {
  send: {
    help: `keysmith send <provider> [--event NAME] [--file F] [--url U] [--email E] [--order ID] [--yes]
    Sign a sample (or the given payload) and POST it to the stack (or --url). Samples are test
    orders for customers under example.com. With --stack it signs with the deployed secrets and
    asks first (--yes skips the question; without a terminal --yes is required).`,
    options: { event: str, file: str, url: str, email: str, order: str, yes: { type: 'boolean', short: 'y' } },
    async run(ctx) {
      const { send } = await import('./commands/send');
      await send(
        { provider: ctx.arg('send <provider> [--event NAME] [--file F] [--url U]'), ...pick(ctx.values, ['event', 'file', 'url', 'email', 'order']), yes: ctx.values.yes === true },
        ctx.targetOptions,
        ctx.out,
      );
    },
  },
  licenses: {
    help: `keysmith licenses (--order ID | --email EMAIL | --key KEY) [--provider P]
    Find licenses.`,
    options: { order: str, email: str, key: str, provider: str },
    async run(ctx) {
      const { licenses } = await import('./commands/licenses');
      await licenses(pick(ctx.values, ['order', 'email', 'key', 'provider']), ctx.target, ctx.out);
    },
  },
  show: {
    help: `keysmith show <license-id>
    A license with its holds (why it is not active), its history, its order and every
    event applied to the order.`,
    options: {},
    async run(ctx) {
      const { show } = await import('./commands/show');
      await show({ license: ctx.arg('show <license-id>') }, ctx.target, ctx.out);
    },
  },
  revoke: {
    ...LICENSE_ACTION,
    help: `keysmith revoke <license-id> --reason TEXT [--no-wait] [--timeout S]\n    Revoke one license through the queue (recorded in its history); waits for the worker.`,
  },
  suspend: {
    ...LICENSE_ACTION,
    help: `keysmith suspend <license-id> --reason TEXT [--no-wait] [--timeout S]\n    Suspend one license through the queue (recorded in its history); waits for the worker.`,
  },
  reinstate: { ...LICENSE_ACTION, help: `keysmith reinstate <license-id> --reason TEXT [--no-wait] [--timeout S]\n    Reinstate a suspended license through the queue; waits for the worker.` },
  activations: {
    help: `keysmith activations <license-id>
    The machines a license is activated on through the license API, and its seats in use.`,
    options: {},
    async run(ctx) {
      const { activations } = await import('./commands/licenseOps');
      await activations(ctx.arg('activations <license-id>'), ctx.target, ctx.out);
    },
  },
  deactivate: {
    help: `keysmith deactivate <license-id> (--instance ID | --all)
    Free seats: the app's next validate of that instance fails, and the seat can be activated again.`,
    options: { instance: str, all: flag },
    async run(ctx) {
      const { deactivate } = await import('./commands/licenseOps');
      const instance = ctx.values.instance;
      await deactivate(ctx.arg('deactivate <license-id> (--instance ID | --all)'), { ...(typeof instance === 'string' ? { instance } : {}), all: ctx.values.all === true }, ctx.target, ctx.out);
    },
  },
  grant: {
    help: `keysmith grant --email E --product P [--seats N] [--days D] [--name NAME] --note TEXT [--no-wait] [--timeout S]
    Give a license by hand (a reviewer, a replacement): an order of its own, recorded with the
    note and emailed like any other. --seats and --days replace the product's; P is a catalog id.`,
    options: { email: str, product: str, seats: str, days: str, note: str, name: str, ...WAIT },
    async run(ctx) {
      const { grant } = await import('./commands/licenseOps');
      await grant({ ...pick(ctx.values, ['email', 'product', 'seats', 'days', 'note', 'name']), wait: ctx.wait, timeoutSeconds: ctx.timeoutSeconds }, ctx.target, ctx.out);
    },
  },
  migrate: {
    help: `keysmith migrate
    After upgrading keysmith: bring stored orders up to date (the license API's view of every
    license issued before it existed). Safe to run again, and while orders arrive.`,
    options: {},
    async run(ctx) {
      const { migrate } = await import('./commands/migrate');
      await migrate(ctx.target, ctx.out);
    },
  },
  export: {
    help: `keysmith export [--format csv|json]
    Every license with its status, to stdout (reads every order: a table scan).`,
    options: { format: str },
    async run(ctx) {
      const { exportLicenses } = await import('./commands/licenseOps');
      await exportLicenses(pick(ctx.values, ['format']), ctx.target, ctx.out);
    },
  },
  resend: {
    help: `keysmith resend <order> [--provider P] [--license ID] [--reason TEXT] [--no-wait] [--timeout S]
    Email the customer their active licenses again.`,
    options: { provider: str, license: str, reason: str, ...WAIT },
    async run(ctx) {
      const { resend } = await import('./commands/manage');
      await resend(
        ctx.arg('resend <order> [--provider P] [--license ID]'),
        { ...pick(ctx.values, ['reason', 'provider', 'license']), wait: ctx.wait, timeoutSeconds: ctx.timeoutSeconds },
        ctx.target,
        ctx.out,
      );
    },
  },
  deliveries: {
    help: `keysmith deliveries [--provider P] [--since 24h|ISO] [--until ISO] [--status S] [--order ID] [--limit N]
    Verified webhook requests, newest first, with what became of them
    (status: applied, pending, problem, empty).`,
    options: { provider: str, since: str, until: str, status: str, order: str, limit: str },
    async run(ctx) {
      const { deliveries } = await import('./commands/deliveries');
      await deliveries(pick(ctx.values, ['provider', 'since', 'until', 'status', 'limit', 'order']), ctx.target, ctx.out);
    },
  },
  replay: {
    help: `keysmith replay <delivery-id> [--provider P] [--force] [--no-wait] [--timeout S]
    Enqueue a recorded delivery again with the same event ids (a no-op if it was applied);
    --force also re-sends the license email.`,
    options: { provider: str, force: flag, ...WAIT },
    async run(ctx) {
      const { replay } = await import('./commands/replay');
      await replay(
        ctx.arg('replay <delivery-id> [--force]'),
        { ...pick(ctx.values, ['provider']), force: ctx.values.force === true, wait: ctx.wait, timeoutSeconds: ctx.timeoutSeconds },
        ctx.target,
        ctx.out,
      );
    },
  },
  dlq: {
    help: `keysmith dlq list [--limit N]
keysmith dlq show <message-id>
keysmith dlq redrive (--all | --id MESSAGE) [--rate N] [--no-wait] [--timeout S]
    The dead-letter queue: decoded events with their last error; back to the queue.`,
    options: { limit: str, all: flag, id: str, rate: str, ...WAIT },
    async run(ctx) {
      const sub = ctx.rest[0];
      const dlq = await import('./commands/dlq');
      if (sub === 'list') await dlq.dlqList(pick(ctx.values, ['limit']), ctx.target, ctx.out);
      else if (sub === 'show') {
        if (!ctx.rest[1]) throw usageError('usage: keysmith dlq show <message-id>');
        await dlq.dlqShow(ctx.rest[1], ctx.target, ctx.out);
      } else if (sub === 'redrive') {
        await dlq.dlqRedrive({ all: ctx.values.all === true, ...pick(ctx.values, ['id', 'rate']), wait: ctx.wait, timeoutSeconds: ctx.values.timeout ? ctx.timeoutSeconds : 600 }, ctx.target, ctx.out);
      } else throw usageError(`usage: keysmith dlq list | show <message-id> | redrive (--all | --id MESSAGE)${didYouMean(sub, ['list', 'show', 'redrive'])}`);
    },
  },
  secrets: {
    help: `keysmith secrets set <NAME> [--from-file F] [--force]
    Store a secret (value from the file, stdin or typed without echo; never shown): Secrets
    Manager with --stack, the local dev secrets file otherwise.`,
    options: { 'from-file': str, force: flag },
    async run(ctx) {
      if (ctx.rest[0] !== 'set' || !ctx.rest[1]) throw usageError(`usage: keysmith secrets set <NAME> [--from-file F]${didYouMean(ctx.rest[0], ['set'])}`);
      const { secretsSet } = await import('./commands/secrets');
      const fromFile = ctx.values['from-file'];
      await secretsSet(ctx.rest[1], { ...(typeof fromFile === 'string' ? { fromFile } : {}), force: ctx.values.force === true }, ctx.targetOptions, ctx.target, ctx.out);
    },
  },
  doctor: {
    help: `keysmith doctor
    Secrets and keys (each one used as the stack uses it), SES identity and sandbox, queues,
    DLQ, alarms: one verdict per line (✔ ok, ! warning, ✘ problem, – not applicable).`,
    options: {},
    async run(ctx) {
      const { doctor } = await import('./commands/doctor');
      await doctor(ctx.targetOptions, ctx.out);
    },
  },
  console: {
    help: `keysmith console [--port P] [--no-open]
    The operator's web page on 127.0.0.1 (a token per launch): overview, search, an order's
    timeline and actions, deliveries and replay, dead letters and redrive. Prints its URL on one
    line and serves until stopped (Ctrl-C); --no-open does not start a browser.`,
    options: { port: str, 'no-open': flag },
    async run(ctx) {
      const { consoleCommand } = await import('./commands/console');
      await consoleCommand({ ...pick(ctx.values, ['port']), open: ctx.values['no-open'] !== true }, ctx.target, ctx.out);
    },
  },
  emails: {
    help: `keysmith emails [--to EMAIL]
    Emails the local stack captured (local only).`,
    options: { to: str },
    async run(ctx) {
      if (ctx.targetOptions.stack ?? process.env.KEYSMITH_STACK)
        throw usageError('emails reads the local SES emulator; for a deployed stack, `keysmith show <license-id>` gives each email’s status and SES message id');
      const { emails } = await import('./commands/emails');
      await emails(pick(ctx.values, ['to']), ctx.out);
    },
  },
  verify: {
    help: `keysmith verify <token> [--public-key FILE] [--product P] [--allow-test]
    Check a signed license offline. A TEST license (issued for a provider test order)
    is refused unless --allow-test.`,
    options: { 'public-key': str, product: str, 'allow-test': flag },
    async run(ctx) {
      const { verify } = await import('./commands/verify');
      const publicKey = ctx.values['public-key'];
      await verify(
        {
          token: ctx.arg('verify <token> [--public-key FILE] [--product P] [--allow-test]'),
          ...(typeof publicKey === 'string' ? { publicKey } : {}),
          ...pick(ctx.values, ['product']),
          ...(ctx.values['allow-test'] ? { allowTest: true } : {}),
        },
        ctx.out,
      );
    },
  },
  keys: {
    help: `keysmith keys generate [--out PREFIX]
    A new Ed25519 signing key pair and license secret.`,
    options: { out: str },
    async run(ctx) {
      if (ctx.rest[0] !== 'generate') throw usageError(`usage: keysmith keys generate [--out PREFIX]${didYouMean(ctx.rest[0], ['generate'])}`);
      const { keysGenerate } = await import('./commands/keys');
      await keysGenerate(pick(ctx.values, ['out']), ctx.out);
    },
  },
};

const TARGET_HELP = `Target (every command but verify and keys):
  (default)              the local stack \`npm start\` runs in this folder (found through
                         .keysmith/local.json; PORT=N picks 127.0.0.1:N instead)
  --stack NAME           a deployed stack (or KEYSMITH_STACK): resources from its CloudFormation
  --region R             outputs, credentials from the standard AWS chain (AWS_PROFILE, …)`;

const COMMON_HELP = `Options:
  --json     machine-readable output on stdout (progress and notes go to stderr)
  --help     help (\`keysmith help <command>\` or \`keysmith <command> --help\` for one command)
  --version  the keysmith version`;

const EXIT_HELP = `Exit codes:
  0 ok   1 failed   2 bad arguments   3 license invalid (verify)   4 not found
  5 timed out waiting for the worker   6 stack unreachable (not running, no such stack, no credentials)`;

function usage(): string {
  const seen = new Set<string>();
  const blocks: string[] = [];
  for (const command of Object.values(COMMANDS)) {
    if (seen.has(command.help)) continue;
    seen.add(command.help);
    blocks.push(indent(command.help));
  }
  // The three license actions share one entry in the overview.
  const overview = blocks
    .filter((b) => !/keysmith (suspend|reinstate) /.test(b))
    .map((b) =>
      b.replace(
        /^ {2}keysmith revoke <license-id>.*\n.*$/m,
        '  keysmith revoke|suspend|reinstate <license-id> --reason TEXT [--no-wait] [--timeout S]\n      Change one license through the queue (recorded in its history); waits for the worker.',
      ),
    );
  return `keysmith ${version} — fulfillment gateway CLI\n\nUsage:\n${overview.join('\n')}\n\n${TARGET_HELP}\n\n${COMMON_HELP}\n\n${EXIT_HELP}`;
}

function commandHelp(name: string): string {
  const command = COMMANDS[name]!;
  const own = Object.entries(command.options).map(([option, spec]) => `--${option}${spec.type === 'string' ? ' VALUE' : ''}`);
  return [
    `Usage:\n${indent(command.help)}`,
    own.length > 0 ? `Options: ${own.join(', ')}` : 'Options: none of its own',
    name === 'verify' || name === 'keys' ? 'Global: --json, --help' : 'Global: --json, --help, --stack NAME, --region R',
    EXIT_HELP,
  ].join('\n\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function didYouMean(input: string | undefined, candidates: readonly string[]): string {
  const guess = input ? suggest(input, candidates) : undefined;
  return guess ? ` (did you mean "${guess}"?)` : '';
}

/** Every option any command takes: finds the command word even after `--stack NAME`. */
function allOptions(): OptionSpecs {
  const all: OptionSpecs = { ...GLOBAL, version: { type: 'boolean' } };
  for (const command of Object.values(COMMANDS)) Object.assign(all, command.options);
  return all;
}

export async function main(argv: string[]): Promise<number> {
  const first = firstPositional(argv);
  if (first === undefined) {
    const parsed = parseCommandArgs(argv, { ...GLOBAL, version: { type: 'boolean', short: 'V' } }, '');
    if (parsed.values.version) {
      process.stdout.write(`${version}\n`);
      return EXIT.ok;
    }
    process.stdout.write(`${usage()}\n`);
    return parsed.values.help ? EXIT.ok : EXIT.usage;
  }
  if (first === 'help') {
    const topic = parseCommandArgs(argv, GLOBAL, 'help').positionals[1];
    if (!topic) process.stdout.write(`${usage()}\n`);
    else if (COMMANDS[topic]) process.stdout.write(`${commandHelp(topic)}\n`);
    else throw usageError(`no command "${topic}"${didYouMean(topic, Object.keys(COMMANDS))}; \`keysmith --help\` lists them`);
    return EXIT.ok;
  }
  const command = COMMANDS[first];
  if (!command) throw usageError(`unknown command "${first}"${didYouMean(first, Object.keys(COMMANDS))}\nRun \`keysmith --help\` for the commands.`);
  const { values, positionals } = parseCommandArgs(argv, { ...GLOBAL, ...command.options }, first);
  if (values.help) {
    process.stdout.write(`${commandHelp(first)}\n`);
    return EXIT.ok;
  }
  const out = createOutput(values.json === true);
  const rest = positionals.slice(1);
  const targetOptions: TargetOptions = pick(values, ['stack', 'region']) as TargetOptions;
  let made: Promise<Target> | undefined;
  const target = (): Promise<Target> => (made ??= import('./target').then((t) => t.resolveTarget(targetOptions)));
  const ctx: Context = {
    values: { ...values, command: first },
    rest,
    out,
    targetOptions,
    target,
    arg(synopsis) {
      if (!rest[0]) throw usageError(`usage: keysmith ${synopsis}`);
      return rest[0];
    },
    wait: values['no-wait'] !== true,
    timeoutSeconds: parseTimeout(typeof values.timeout === 'string' ? values.timeout : undefined, DEFAULT_WAIT_SECONDS),
  };
  try {
    await command.run(ctx);
  } finally {
    if (made)
      await made.then(
        (t) => t.close(),
        () => undefined,
      );
  }
  return EXIT.ok;
}

/** The command word: the first positional once every known option has taken its value. */
function firstPositional(argv: string[]): string | undefined {
  return parseArgs({ args: argv, allowPositionals: true, strict: false, options: allOptions() }).positionals[0];
}

function pick<K extends string>(values: Parsed['values'], keys: K[]): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const key of keys) {
    const value = values[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

/** Entry used by bin/keysmith.cjs. */
export function run(argv = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      // Error messages can quote what a provider or customer sent: same rule as every output.
      process.stderr.write(`keysmith: ${sanitize(message)}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : EXIT.failed;
    },
  );
}
