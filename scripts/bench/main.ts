import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isEmulatorThread, serveEmulatorsInThisThread } from '../../lib/local/emulatorThread';
import { awsCalls } from './awsCalls';
import { coldStarts } from './coldStart';
import { consoleBench, DEFAULT_CONSOLE } from './consoleBench';
import { DEFAULT_CPU, ingressCpu, type LightSend, sdkSendCost } from './cpu';
import { emulatorFloor, endToEnd } from './endToEnd';
import { licensingCpu } from './licensingCpu';
import { ROOT } from './paths';
import { machine, type Results, render, verdicts } from './report';

/**
 * `npm run bench [-- options]` — measures and writes BENCHMARKS.md.
 *
 *   --only cpu,cold,calls,e2e,console   sections to run (default: all)
 *   --orders N                  e2e orders (default 5000)
 *   --concurrency N             e2e concurrency (default 32)
 *   --console-orders N          orders seeded for the console section (default 10000)
 *   --cold-runs N               fresh processes per bundle (default 15)
 *   --out FILE                  where to write (default BENCHMARKS.md; `-` for stdout only)
 *   --strict                    exit 1 when a goal is not met
 *
 * Exits 1 whatever the options when an e2e email owed to a customer is neither in the SES
 * emulator's mailbox nor recorded as failed with a reason (scripts/emailAccounting.ts).
 */

// The local stack's emulator thread runs this same bundle (see benchStack.ts).
if (isEmulatorThread()) void serveEmulatorsInThisThread();

/** What follows this line in BENCHMARKS.md is hand-written and kept as it is by every run. */
export const KEPT_MARKER = '<!-- Everything below this line is kept by `npm run bench`: notes and recorded history, written by people, not measured by the run above. -->';

interface Options {
  only: Set<string>;
  orders: number;
  concurrency: number;
  coldRuns: number;
  consoleOrders: number;
  out: string;
  strict: boolean;
}

function parse(args: string[]): Options {
  const value = (name: string): string | undefined => {
    const at = args.indexOf(`--${name}`);
    return at === -1 ? undefined : args[at + 1];
  };
  const number = (name: string, fallback: number): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  const sections = ['cpu', 'cold', 'calls', 'e2e', 'console'];
  const only = new Set((value('only') ?? sections.join(',')).split(',').map((s) => s.trim()));
  for (const section of only) if (!sections.includes(section)) throw new Error(`unknown section ${section} (${sections.join(', ')})`);
  return {
    only,
    orders: number('orders', 5000),
    concurrency: number('concurrency', 32),
    coldRuns: number('cold-runs', 15),
    consoleOrders: number('console-orders', DEFAULT_CONSOLE.orders),
    out: value('out') ?? 'BENCHMARKS.md',
    strict: args.includes('--strict'),
  };
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

export async function main(args: string[]): Promise<number> {
  const options = parse(args);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = Date.now();
  const info = machine(ROOT);
  const results: Results = {};

  if (options.only.has('cpu')) {
    say('cpu: ingress per request vs floor…');
    results.cpu = await ingressCpu(DEFAULT_CPU);
    say('cpu: SDK SendMessageBatch cost…');
    results.sdk = await sdkSendCost(undefined, await lightSend());
    say('cpu: license API validate per request vs floor…');
    results.licensingCpu = await licensingCpu(DEFAULT_CPU);
  }
  if (options.only.has('cold')) {
    say(`cold: bundling like CDK, ${options.coldRuns} fresh processes per bundle…`);
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-bench-cold-'));
    try {
      results.cold = await coldStarts(dir, options.coldRuns);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (options.only.has('calls')) {
    say('calls: AWS calls per order over the local stack…');
    results.calls = await awsCalls();
  }
  if (options.only.has('e2e')) {
    say(`e2e: ${options.orders} orders at concurrency ${options.concurrency} through the local stack…`);
    results.e2e = await endToEnd({ orders: options.orders, concurrency: options.concurrency });
    say(`e2e: the emulators' own limit for an ack at concurrency ${options.concurrency}…`);
    results.floor = await emulatorFloor(options.concurrency, 3000);
  }
  if (options.only.has('console')) {
    say(`console: ${options.consoleOrders} orders seeded into the local stack, then search and the overview over HTTP…`);
    results.console = await consoleBench({ ...DEFAULT_CONSOLE, orders: options.consoleOrders }, say);
  }

  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const outfile = options.out === '-' ? undefined : resolve(ROOT, options.out);
  const previous = outfile && existsSync(outfile) ? readFileSync(outfile, 'utf8') : '';
  const kept = previous.includes(KEPT_MARKER) ? previous.slice(previous.indexOf(KEPT_MARKER)) : KEPT_MARKER;
  const text = render({
    machine: info,
    command,
    seconds: (Date.now() - started) / 1000,
    results,
    settings: {
      cpuIterations: `${DEFAULT_CPU.rounds * DEFAULT_CPU.perRound} requests per provider and variant after ${DEFAULT_CPU.warmup} warm-up`,
      coldRuns: options.coldRuns,
      e2eOrders: options.orders,
      e2eConcurrency: options.concurrency,
      queue: await queueDescription(),
    },
    history: kept,
  });
  if (outfile) {
    writeFileSync(outfile, text);
    say(`wrote ${outfile}`);
  } else {
    process.stdout.write(text);
  }
  const v = verdicts(results);
  for (const x of v) say(`${x.met ? 'goal met    ' : 'goal NOT met'}  ${x.figure}`);
  // Not a goal but a correctness check: an owed email nobody can account for fails every run.
  if (results.e2e && results.e2e.emailAccount.unaccounted > 0) {
    say(`FAILED: ${results.e2e.emailAccount.problem}`);
    return 1;
  }
  return options.strict && v.some((x) => !x.met) ? 1 : 0;
}

/** The light client's SendMessageBatch with an instant transport, when this checkout has one. */
async function lightSend(): Promise<LightSend | undefined> {
  if (!existsSync(join(ROOT, 'functions', 'aws', 'light'))) return undefined;
  const { AwsJsonClient } = await import('../../functions/aws/light/AwsJsonClient');
  const { sendMessageBatch } = await import('../../functions/aws/light/sqs');
  const { toQueueEntry } = await import('../../functions/aws/queue');
  let answer: (body: string) => string = () => '{}';
  const client = new AwsJsonClient({
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    jsonVersion: '1.0',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }),
    transport: async (request) => ({ status: 200, headers: {}, body: Buffer.from(answer(request.body)) }),
  });
  return async (events, instant) => {
    answer = instant;
    const accepted = await sendMessageBatch(client, 'http://127.0.0.1:1/000000000000/keysmith-events.fifo', events.map(toQueueEntry) as never);
    if (accepted.size !== events.length) throw new Error('light send: not accepted');
  };
}

async function queueDescription(): Promise<string> {
  const { QUEUE } = await import('../../functions/settings');
  return `batch size ${QUEUE.batchSize}, ${QUEUE.maxConcurrency} concurrent worker invocations, as in functions/settings.ts`;
}
