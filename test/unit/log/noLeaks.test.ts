import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PermanentMailError } from '../../../functions/aws/mailer';
import { secretsFrom } from '../../../functions/aws/secrets';
import { forgetCatalog } from '../../../functions/config/loadCatalog';
import type { RenderedEmail } from '../../../functions/domain/email';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { toWebhookRequest } from '../../../functions/ingress/handler';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { createLogger } from '../../../functions/log/logger';
import { SECRET_NAMES, WEBHOOK_PROVIDERS, type WebhookRegistration } from '../../../functions/providers/registry';
import type { SampleRequest } from '../../../functions/providers/sample';
import { createWorker } from '../../../functions/worker/handler';
import { DEV_ONLY_NAMES, ensureDevSecrets } from '../../../lib/local/devSecrets';
import { catalogWith } from '../../helpers/fixtures';
import { MemoryMailer, MemoryQueue, MemoryStore } from '../../helpers/memory';
import { sqsEvent } from './support';

/**
 * Every log line the real ingress pipeline and the real worker write, for every provider's signed
 * sample — accepted, forged, unconfigured, failing — with license keys and with signed licenses:
 * no full customer email, no secret value, no license key or signed token in any of them.
 */

const CUSTOMER = 'Jane.Customer+orders@shop.example.org';
/** Any full address; a masked one (`j***@s***.org`) has `*`, which no address part allows. */
const FULL_EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const LICENSE_KEY = /\b[0-9A-Z]{5}(-[0-9A-Z]{5}){4}\b/;
const JWS = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+/;

let stateDir: string;
let secretValues: Record<string, string>;
const lines: string[] = [];
const log = createLogger({ fn: 'test' }, (line) => lines.push(line), 'debug');

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'keysmith-noleaks-'));
  secretValues = ensureDevSecrets(stateDir, {}).values;
});
afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  delete process.env.KEYSMITH_CONFIG;
  forgetCatalog();
});

/** The sample as API Gateway would hand it to the ingress (route key and path parameters matched). */
function toRequest(registration: WebhookRegistration, sample: SampleRequest): WebhookRequest {
  const [path, query = ''] = sample.path.split('?') as [string, string?];
  for (const route of registration.routes) {
    if (route.method !== sample.method) continue;
    const names: string[] = [];
    const pattern = new RegExp(
      `^${route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}$`,
    );
    const match = pattern.exec(path);
    if (!match) continue;
    const event = {
      version: '2.0',
      routeKey: `${route.method} ${route.path}`,
      rawPath: path,
      rawQueryString: query,
      headers: sample.headers,
      pathParameters: Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)])),
      body: sample.body.toString('base64'),
      isBase64Encoded: true,
      requestContext: { http: { method: sample.method, path }, requestId: `req-${registration.name}` },
    } as unknown as APIGatewayProxyEventV2;
    return toWebhookRequest(event, new Date('2026-01-10T12:00:00Z'));
  }
  throw new Error(`no ${registration.name} route matches ${sample.method} ${path}`);
}

function tampered(request: WebhookRequest): WebhookRequest {
  const body = Buffer.from(request.body);
  if (body.length > 0) body[Math.floor(body.length / 2)]! ^= 1;
  return { ...request, body, rawQuery: request.rawQuery.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) };
}

/** Runs every provider and every sample event through ingress and worker; returns the store. */
async function runEverything(format: 'key' | 'signed'): Promise<{ store: MemoryStore; queued: FulfillmentEvent[] }> {
  const catalog = catalogWith({
    products: { default: { name: 'Example App', license: { format, perUnit: true, seats: 'quantity', duration: 'perpetual' }, email: { send: true, notifyRevoke: true } } },
  });
  // The worker reads the catalog like in Lambda: once, from its config.
  const configFile = join(stateDir, `catalog-${format}.json`);
  writeFileSync(configFile, JSON.stringify(catalog));
  process.env.KEYSMITH_CONFIG = configFile;
  forgetCatalog();

  const secrets = secretsFrom(secretValues);
  const queue = new MemoryQueue();
  for (const registration of WEBHOOK_PROVIDERS) {
    const provider = await registration.provider();
    const builder = await registration.sample();
    for (const name of builder.events) {
      const sample = builder.build({ secrets: secretValues, event: name, email: CUSTOMER, orderId: `ord-${registration.name}-${name}` });
      const request = toRequest(registration, sample);
      const deps = { queue, catalog, secrets: async () => secrets, log };
      await runIngress(provider, request, deps);
      await runIngress(provider, tampered(request), deps);
      // Not configured yet: only the license secret is set.
      await runIngress(provider, request, { ...deps, queue: new MemoryQueue(), secrets: async () => secretsFrom({ KEYSMITH_LICENSE_SECRET: secretValues.KEYSMITH_LICENSE_SECRET }) });
    }
    // An outage whose error echoes what it was given (some SDK errors do).
    const sample = builder.build({ secrets: secretValues, email: CUSTOMER });
    const failing = { send: async (events: FulfillmentEvent[]) => Promise.reject(new Error(`cannot send ${JSON.stringify(events)}`)) };
    await runIngress(provider, toRequest(registration, sample), { queue: failing, catalog, secrets: async () => secrets, log });
  }
  expect(queue.sent.length).toBeGreaterThan(WEBHOOK_PROVIDERS.length);

  // The worker: a mailer that works, then one that fails permanently and one that fails
  // transiently — both with messages that quote the address and the email body, as SES can.
  const store = new MemoryStore();
  const quoting = (permanent: boolean) =>
    new (class extends MemoryMailer {
      override async send(to: string, email: RenderedEmail): Promise<{ messageId: string }> {
        const message = `rejected ${to}: ${email.text}`;
        throw permanent ? new PermanentMailError('MessageRejected', message) : Object.assign(new Error(message), { name: 'Throttling' });
      }
    })();
  const worker = (mailer: MemoryMailer) => createWorker({ store, mailer, secrets: async () => secrets, log, now: () => new Date('2026-01-10T12:00:00Z') });
  const half = Math.ceil(queue.sent.length / 2);
  await worker(new MemoryMailer())(sqsEvent(queue.sent.slice(0, half)));
  await worker(quoting(false))(sqsEvent(queue.sent.slice(half)));
  await worker(quoting(true))(sqsEvent(queue.sent.slice(half), 2));
  // A redelivery of everything: duplicates are logged too.
  await worker(new MemoryMailer())(sqsEvent(queue.sent, 3));
  return { store, queued: queue.sent };
}

describe.each(['key', 'signed'] as const)('log lines with %s licenses', (format) => {
  let store: MemoryStore;
  let queued: FulfillmentEvent[];
  beforeAll(async () => {
    lines.length = 0;
    ({ store, queued } = await runEverything(format));
  });

  it('were written for every step, as JSON', () => {
    const messages = new Set(lines.map((line) => (JSON.parse(line) as { message: string }).message));
    expect([...messages]).toEqual(
      expect.arrayContaining(['webhook accepted', 'webhook rejected', 'webhook failed', 'event processed', 'email sent', 'email not sent (permanent)', 'event failed; will retry']),
    );
  });

  it('never hold a full customer email', () => {
    const customers = new Set([CUSTOMER, ...queued.map((e) => e.customer.email).filter(Boolean)]);
    expect(customers.size).toBeGreaterThanOrEqual(1);
    for (const line of lines) {
      expect(line).not.toMatch(FULL_EMAIL);
      for (const email of customers) expect(line.toLowerCase()).not.toContain(email.toLowerCase());
    }
    // … but do say whom, masked.
    expect(lines.some((line) => line.includes('J***@s***.org'))).toBe(true);
  });

  it('never hold a secret value', () => {
    const values = [...SECRET_NAMES, ...DEV_ONLY_NAMES].map((name) => secretValues[name]!).filter(Boolean);
    expect(values.length).toBe(SECRET_NAMES.length + DEV_ONLY_NAMES.length);
    // PEM and JSON values: any 24-character slice of them would give too much away.
    const needles = values.flatMap((v) => (v.length <= 64 ? [v] : [v.slice(30, 54), v.slice(-60, -36)]));
    for (const line of lines) for (const needle of needles) expect(line).not.toContain(needle);
  });

  it('never hold a license key or a signed license', () => {
    const keys = [...store.items.values()].flatMap((item) => item.state.licenses.map((l) => l.key));
    expect(keys.length).toBeGreaterThan(WEBHOOK_PROVIDERS.length);
    if (format === 'signed') expect(keys.every((k) => k.startsWith('eyJ'))).toBe(true);
    for (const line of lines) {
      expect(line).not.toMatch(LICENSE_KEY);
      expect(line).not.toMatch(JWS);
      for (const key of keys) expect(line).not.toContain(format === 'signed' ? key.split('.')[2]! : key);
    }
  });
});
