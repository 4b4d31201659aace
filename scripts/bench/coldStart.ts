import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { EXAMPLE_CONFIG_PATH, readCatalogFile } from '../../functions/config/loadCatalog';
import type { ProviderName } from '../../functions/domain/events';
import { LICENSING_ENTRY } from '../../functions/licensing/routes';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import { FEEDBACK_ENTRY, WORKER_ENTRY } from '../../lib/keysmith-stack';
import { bundleLikeCdk } from './bundle';
import { type BenchSecrets, benchSecrets, type LicenseFixture, licenseFixture, licensingApiEvent, samples, toApiEvent } from './fixtures';
import { LICENSING, LICENSING_FLOOR } from './names';
import { BENCH_DIR, ROOT as root } from './paths';
import { median } from './stats';
import { startStubAws } from './stubAws';

/**
 * Cold-start proxy. Each Lambda entry is bundled exactly as `KeysmithFunction` has CDK bundle it
 * (esbuild, `--bundle --platform=node --format=cjs --minify --target=node<runtime>`, SDK bundled,
 * the catalog inlined); then a fresh `node` process requires the bundle and handles one request
 * against an AWS stub that answers at once — secrets from "Secrets Manager", the delivery log
 * and the queue — N times, interleaved with a bare `node -e 0`.
 */

export interface BundleResult {
  name: string;
  entry: string;
  bytes: number;
  file: string;
  /** Bundled with the AWS SDK clients in place of functions/aws/light (the comparison, not a function). */
  sdkVariant?: boolean;
  /** Measured for size only (no sample event to start it with). */
  sizeOnly?: boolean;
}

export interface ColdResult extends BundleResult {
  /** Median wall time of `node coldChild.cjs <bundle> <event>`, ms. */
  coldMs: number;
  /** Median wall time of `node -e 0` in the same run, ms. */
  bareMs: number;
  ratio: number;
  runs: number;
}

export const LIGHT_CLIENT_DIR = 'functions/aws/light';

export async function bundles(dir: string): Promise<BundleResult[]> {
  mkdirSync(dir, { recursive: true });
  const entries = [...WEBHOOK_PROVIDERS.map((r) => ({ name: r.name, entry: r.entry })), { name: 'worker', entry: WORKER_ENTRY }, { name: LICENSING, entry: LICENSING_ENTRY }];
  const out: BundleResult[] = [];
  for (const { name, entry } of entries) {
    const file = join(dir, `${name}.js`);
    out.push({ name, entry, file, bytes: await bundleLikeCdk(entry, file) });
  }
  const feedback = join(dir, 'feedback.js');
  out.push({ name: 'feedback', entry: FEEDBACK_ENTRY, file: feedback, bytes: await bundleLikeCdk(FEEDBACK_ENTRY, feedback), sizeOnly: true });
  if (existsSync(resolve(root, LIGHT_CLIENT_DIR))) {
    const fastspring = WEBHOOK_PROVIDERS.find((r) => r.name === 'fastspring')!;
    const file = join(dir, 'fastspring-sdk.js');
    out.push({ name: 'fastspring-sdk', entry: fastspring.entry, file, bytes: await bundleLikeCdk(fastspring.entry, file, { sdkVariant: true }), sdkVariant: true });
  }
  return out;
}

/** A process's median wall time against bare `node -e 0`, in one environment. */
export interface Timing {
  ms: number;
  bareMs: number;
  ratio: number;
}

export interface ColdRun {
  results: ColdResult[];
  /** The floor process (coldFloor.cjs): modules and AWS calls any ingress needs, nothing else. */
  floor: Timing;
  /** The license API's floor (coldFloorLicensing.cjs): what any validate needs, nothing else. */
  licensingFloor: Timing;
  /** The same measurements with a clean environment (PATH and the function's variables only). */
  clean: { results: Map<string, Timing>; floor: Timing };
  /** NODE_* variables inherited from the caller's environment (they change every process's startup). */
  inheritedNodeVariables: string[];
  runs: number;
}

export async function coldStarts(dir: string, runs: number, secrets: BenchSecrets = benchSecrets()): Promise<ColdRun> {
  const all = await bundles(dir);
  const built = all.filter((b) => !b.sizeOnly);
  // The license API's first request is a validate of a key the worker issued: the stub's Query
  // finds that license's view, as DynamoDB would.
  const license = await licenseFixture(secrets);
  const stub = await startStubAws(secrets.handler, { partitions: new Map([[license.partition, license.items]]) });
  try {
    // What Lambda gives the function, pointed at the stub.
    const lambda: NodeJS.ProcessEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'bench-session-token',
      AWS_EC2_METADATA_DISABLED: 'true',
      // Lambda's Node 24 prints no such warning; Node 20 here would.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_ENDPOINT_URL_SQS: stub.url,
      AWS_ENDPOINT_URL_DYNAMODB: stub.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.url,
      AWS_ENDPOINT_URL_SES: stub.url,
      KEYSMITH_QUEUE_URL: `${stub.url}/000000000000/keysmith-events.fifo`,
      KEYSMITH_TABLE_NAME: 'keysmith',
      KEYSMITH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keysmith-AbCdEf',
    };
    // "A bare node -e 0 in the same run": the environment the bench was started in, for both.
    const inherited: NodeJS.ProcessEnv = { ...process.env, ...lambda };
    // And without it: variables such as NODE_EXTRA_CA_CERTS cost every Node process tens of ms.
    const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...lambda };
    const events = new Map<string, string>();
    for (const b of built) {
      const file = join(dir, `${b.name}.event.json`);
      const provider = b.name.replace(/-sdk$/, '') as ProviderName;
      writeFileSync(file, JSON.stringify(await firstEvent(b.name, provider, secrets, license)));
      events.set(b.name, file);
    }
    const child = resolve(BENCH_DIR, 'coldChild.cjs');
    const floorScript = resolve(BENCH_DIR, 'coldFloor.cjs');
    const candidates: { name: string; args: string[] }[] = [
      { name: 'bare', args: ['-e', '0'] },
      { name: 'floor', args: [floorScript, events.get('fastspring')!] },
      { name: LICENSING_FLOOR, args: [resolve(BENCH_DIR, 'coldFloorLicensing.cjs'), events.get(LICENSING)!] },
      ...built.map((b) => ({ name: b.name, args: [child, b.file, events.get(b.name)!] })),
    ];
    const measure = async (env: NodeJS.ProcessEnv): Promise<Map<string, Timing>> => {
      const times = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
      // One warm-up pass fills the OS page cache for node and every bundle.
      for (const c of candidates) await timeProcess(c.args, env);
      for (let run = 0; run < runs; run++) {
        // Interleaved: drift on a shared machine hits bare node and the bundles alike.
        // timeProcess rejects unless the child exits 0 (the handler answered 2xx).
        for (const c of candidates) times.get(c.name)!.push((await timeProcess(c.args, env)).ms);
      }
      const bareMs = median(times.get('bare')!);
      return new Map([...times].map(([name, ms]) => [name, { ms: median(ms), bareMs, ratio: median(ms) / bareMs }]));
    };
    const inheritedTimes = await measure(inherited);
    const cleanTimes = await measure(clean);
    return {
      results: all.map((b) => {
        const t = inheritedTimes.get(b.name) ?? { ms: Number.NaN, bareMs: Number.NaN, ratio: Number.NaN };
        return { ...b, coldMs: t.ms, bareMs: t.bareMs, ratio: t.ratio, runs };
      }),
      floor: inheritedTimes.get('floor')!,
      licensingFloor: inheritedTimes.get(LICENSING_FLOOR)!,
      clean: { results: cleanTimes, floor: cleanTimes.get('floor')! },
      inheritedNodeVariables: Object.keys(process.env).filter((name) => name.startsWith('NODE_')),
      runs,
    };
  } finally {
    await stub.close();
  }
}

/** What each function is started with: a sample webhook, an SQS batch, or an app's validate. */
async function firstEvent(name: string, provider: ProviderName, secrets: BenchSecrets, license: LicenseFixture): Promise<unknown> {
  if (name === 'worker') return workerEvent(secrets);
  // coldChild.cjs exits 0 only on a 2xx: a validate that finds the license (a 404 would fail the run).
  if (name === LICENSING) return licensingApiEvent('validate', { license_key: license.key }, 'cold-licensing');
  return toApiEvent((await samples(provider, secrets, 1))[0]!, `cold-${name}`);
}

async function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stderr: string }> {
  const start = process.hrtime.bigint();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited with ${code}${code === 3 ? ' (the handler did not answer 2xx)' : ''}:\n${stderr.slice(-2000)}`));
      else resolvePromise({ ms, stderr });
    });
  });
}

/** An SQS event with one new fastspring order, as the event source mapping hands the worker. */
async function workerEvent(secrets: BenchSecrets): Promise<SQSEvent> {
  const { fastspring } = await import('../../functions/providers/fastspring');
  const { toWebhookRequest } = await import('../../functions/ingress/handler');
  const { secretsFrom } = await import('../../functions/aws/secrets');
  const { toQueueEntry } = await import('../../functions/aws/queue');
  const [sample] = await samples('fastspring', secrets, 1);
  const request = toWebhookRequest(toApiEvent(sample!, 'cold-worker'));
  const ctx = { secrets: secretsFrom(secrets.handler), catalog: readCatalogFile(resolve(root, EXAMPLE_CONFIG_PATH)) };
  const events = fastspring.normalize(fastspring.parse(await fastspring.verify(request, ctx), request), request, ctx);
  const entry = toQueueEntry(events[0]!, 0);
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: '00000000-0000-4000-8000-000000000001',
        receiptHandle: 'bench',
        body: entry.MessageBody!,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: '000000000000',
          ApproximateFirstReceiveTimestamp: now,
          MessageGroupId: entry.MessageGroupId!,
          MessageDeduplicationId: entry.MessageDeduplicationId!,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:keysmith-events.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  };
}
