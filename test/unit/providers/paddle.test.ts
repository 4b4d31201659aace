import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { applyContextFactory } from '../../../functions/config/applyContext';
import type { Catalog } from '../../../functions/domain/catalog';
import { apply, type Entitlement, MAX_SIGNED_UNIT_LICENSES, MAX_UNIT_LICENSES } from '../../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { toWebhookRequest } from '../../../functions/ingress/handler';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { paddle } from '../../../functions/providers/paddle';
import { escapeMarkdown, MAX_ANSWER_BYTES } from '../../../functions/providers/paddle/answer';
import { encodeForm } from '../../../functions/providers/paddle/form';
import { signFields } from '../../../functions/providers/paddle/sample';
import { processEvent } from '../../../functions/worker/processEvent';
import { catalogWith, exampleCatalog, fixture, LICENSE_SECRET, testSecrets } from '../../helpers/fixtures';
import { MemoryMailer, MemoryQueue, MemoryStore, silentLogger } from '../../helpers/memory';

// ── keys and signing ──────────────────────────────────────────────────────────────────────────
const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const live = pair();
const sandbox = pair();
const stranger = pair();
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const LIVE_PEM = pem(live.publicKey);
const SANDBOX_PEM = pem(sandbox.publicKey);
const SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const PADDLE_FIXTURES = join(__dirname, '..', '..', 'fixtures', 'providers', 'paddle');
const vectors = JSON.parse(readFileSync(join(PADDLE_FIXTURES, 'php-vectors.json'), 'utf8')) as {
  publicKey: string;
  requests: { name: string; path: string; form: string; serialized: string }[];
};
const HAS_PHP = spawnSync('php', ['-v']).status === 0;

type Fields = [string, string][];

/** The captured pilotmoon request (its own Paddle sandbox signature dropped). */
const pilotmoon: Fields = Object.entries(JSON.parse(fixture('paddle-fulfillment-pilotmoon.json').toString()) as Record<string, string>).filter(
  ([name]) => !name.startsWith('_') && name !== 'p_signature',
);

function withFields(base: Fields, changes: Record<string, string | undefined>): Fields {
  const map = new Map(base);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) map.delete(name);
    else map.set(name, value);
  }
  return [...map];
}

/** A form body signed like Paddle signs, p_signature last. */
function signed(fields: Fields, key: KeyObject = live.privateKey): string {
  return encodeForm([...fields, ['p_signature', signFields(new Map(fields), key)]]);
}

/** Paddle's reference signer: real PHP serialize() + openssl_sign(). */
function phpSigned(fields: Fields, key: KeyObject = live.privateKey): string {
  const input = JSON.stringify({ privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(), fields: Object.fromEntries(fields) });
  const run = spawnSync('php', [join(PADDLE_FIXTURES, 'sign.php')], { input });
  if (run.status !== 0) throw new Error(`php failed: ${run.stderr.toString()}`);
  return (JSON.parse(run.stdout.toString()) as { form: string }).form;
}

const RECEIVED = new Date('2026-01-01T00:00:00Z');

function post(form: string | Buffer, path = '/webhooks/paddle', headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }): WebhookRequest {
  return { method: 'POST', path, routeKey: `POST ${path}`, pathParameters: {}, headers, rawQuery: '', body: Buffer.isBuffer(form) ? form : Buffer.from(form), receivedAt: RECEIVED, requestId: 'r1' };
}

function get(query: string, path = '/webhooks/paddle'): WebhookRequest {
  return { method: 'GET', path, routeKey: `GET ${path}`, pathParameters: {}, headers: {}, rawQuery: query, body: Buffer.alloc(0), receivedAt: RECEIVED, requestId: 'r1' };
}

/** As API Gateway HTTP API (v2) delivers a form POST: base64-encoded, mixed-case headers. */
function viaApiGateway(form: string, path = '/webhooks/paddle'): WebhookRequest {
  const event = {
    version: '2.0',
    rawPath: path,
    rawQueryString: '',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    body: Buffer.from(form).toString('base64'),
    isBase64Encoded: true,
    requestContext: { http: { method: 'POST', path }, requestId: 'r' },
  } as unknown as APIGatewayProxyEventV2;
  return toWebhookRequest(event, RECEIVED);
}

const KEYS = { KEYSMITH_PADDLE_PUBLIC_KEY: LIVE_PEM, KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY: SANDBOX_PEM };

async function deliver(req: WebhookRequest, options: { queue?: MemoryQueue; secrets?: Record<string, string>; catalog?: Catalog } = {}) {
  const queue = options.queue ?? new MemoryQueue();
  const secrets = testSecrets(options.secrets ?? KEYS);
  const answer = await runIngress(paddle, req, { queue, catalog: options.catalog ?? exampleCatalog(), secrets: async () => secrets, log: silentLogger() });
  return { answer, queue, events: queue.sent };
}

/** The keys in an answer, Markdown escapes removed. */
function keysIn(body: string): string[] {
  return body
    .trimEnd()
    .split('\n')
    .map((line) => line.replace(/^- /, '').replace(/\\(.)/g, '$1'));
}

const workerContext = applyContextFactory();
/** What the worker's apply() derives for an event (same secrets, same catalog). */
function workerKeys(event: FulfillmentEvent, catalog: Catalog = exampleCatalog(), secrets: Record<string, string> = {}): string[] {
  const result = apply(undefined, event, workerContext(testSecrets(secrets), catalog));
  return result.state.licenses.map((l) => l.key);
}

// ── fulfillment ───────────────────────────────────────────────────────────────────────────────
describe('Paddle fulfillment', () => {
  it('accepts the pilotmoon request as API Gateway delivers it (base64 form) and answers its license key', async () => {
    const { answer, events } = await deliver(viaApiGateway(signed(pilotmoon)));
    expect(answer.status).toBe(200);
    expect(events).toEqual([
      {
        provider: 'paddle',
        eventId: 'fulfillment#573239#47023',
        occurredAt: '2023-03-11T19:58:09.000Z',
        action: 'grant',
        reason: 'fulfillment',
        scope: '573239',
        live: true,
        customer: { email: 'blackhole+640cdd5197baf@paddle.com', name: 'Test User' },
        items: [{ productId: '47023', quantity: 1, name: 'com.example.product' }],
      },
    ]);
    const [key] = workerKeys(events[0]!);
    expect(answer.body).toBe(`${escapeMarkdown(key!)}\n`);
    expect(answer.body).toMatch(/^[0-9A-Z]{5}(\\-[0-9A-Z]{5}){4}\n$/);
  });

  it('reads the same fields from the query string of a GET and answers identically', async () => {
    const form = signed(pilotmoon);
    const viaPost = await deliver(post(form));
    const viaGet = await deliver(get(form));
    expect(viaGet.answer).toEqual(viaPost.answer);
    expect(viaGet.events).toEqual(viaPost.events);
  });

  it('decodes + as a space before checking the signature', async () => {
    const form = signed(withFields(pilotmoon, { name: 'Ada Lovelace', passthrough: 'a+b c' }));
    expect(form).toContain('name=Ada+Lovelace');
    expect(form).toContain('passthrough=a%2Bb+c');
    const { answer, events } = await deliver(post(form));
    expect(answer.status).toBe(200);
    expect(events[0]!.customer.name).toBe('Ada Lovelace');
  });

  it('accepts a request signed by PHP (committed vector): non-ASCII custom fields, UTF-8 byte lengths', async () => {
    const request = vectors.requests.find((r) => r.path === '/webhooks/paddle')!;
    const secrets = { KEYSMITH_PADDLE_PUBLIC_KEY: vectors.publicKey };
    for (const req of [post(request.form), get(request.form)]) {
      const { answer, events } = await deliver(req, { secrets });
      expect(answer.status).toBe(200);
      expect(events[0]).toMatchObject({
        scope: '900001',
        live: true,
        customer: { email: 'jürgen.müller+keys@exämple.de', name: 'Jürgen Müller' },
        items: [{ productId: '47023', quantity: 3, name: 'Ünïcödé Pro — 😀 Edition' }],
      });
      expect(keysIn(answer.body)).toEqual(workerKeys(events[0]!));
    }
  });

  (HAS_PHP ? it : it.skip)('accepts requests signed live by PHP (php on PATH), GET and POST', async () => {
    const fields = withFields(pilotmoon, {
      p_order_id: '777001',
      p_quantity: '2',
      name: 'Jürgen Müller',
      customer_email: 'zoë@exämple.de',
      email: undefined,
      product: '"Quoted"; {braces} a:1:{s:1:"x";}',
      passthrough: '+ & = % ü 😀',
    });
    const form = phpSigned(fields);
    for (const req of [post(form), get(form), viaApiGateway(form)]) {
      const { answer, events } = await deliver(req);
      expect(answer.status).toBe(200);
      expect(events[0]).toMatchObject({ scope: '777001', live: true, customer: { email: 'zoë@exämple.de', name: 'Jürgen Müller' } });
      expect(keysIn(answer.body)).toHaveLength(2);
    }
    // A PHP signature made with the sandbox key marks the order as a test order.
    const { events } = await deliver(post(phpSigned(fields, sandbox.privateKey)));
    expect(events[0]!.live).toBe(false);
  });

  it.each([
    ['a tampered byte', () => post(signed(pilotmoon).replace('name=Test+User', 'name=Test+Usex'))],
    ['an added field', () => post(`${signed(pilotmoon)}&extra=1`)],
    ['a removed field', () => post(signed(pilotmoon).replace('marketing_consent=0&', ''))],
    ['a wrong key', () => post(signed(pilotmoon, stranger.privateKey))],
    ['a missing signature', () => post(encodeForm(pilotmoon))],
    ['an empty signature', () => post(`${encodeForm(pilotmoon)}&p_signature=`)],
    ['a signature that is not base64', () => post(`${encodeForm(pilotmoon)}&p_signature=${encodeURIComponent('not*base64!')}`)],
    ['truncated base64', () => post(signed(pilotmoon).replace(/%3D$/, ''))],
    [
      'the real Paddle sandbox signature of the captured sample (a key we do not hold)',
      () => post(encodeForm(Object.entries(JSON.parse(fixture('paddle-fulfillment-pilotmoon.json').toString()) as Record<string, string>).filter(([n]) => !n.startsWith('_')))),
    ],
    ['a signature copied onto another order', () => post(encodeForm([...withFields(pilotmoon, { p_order_id: '1' }), ['p_signature', signFields(new Map(pilotmoon), live.privateKey)]]))],
    ['an empty body', () => post('')],
  ])('rejects %s with 401 and enqueues nothing', async (_name, make) => {
    const { answer, events } = await deliver(make());
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED: .*p_signature/);
    expect(answer.body).not.toContain('BEGIN');
    expect(events).toHaveLength(0);
  });

  it('rejects everything with 401 while no public key is configured, and names the secret', async () => {
    const { answer, events } = await deliver(post(signed(pilotmoon)), { secrets: {} });
    expect(answer.status).toBe(401);
    expect(answer.body).toBe('NOT_CONFIGURED: KEYSMITH_PADDLE_PUBLIC_KEY is not set; no request can be verified\n');
    expect(events).toHaveLength(0);
  });

  it('refuses a configured key that is not a PEM public key', async () => {
    const { answer } = await deliver(post(signed(pilotmoon)), { secrets: { KEYSMITH_PADDLE_PUBLIC_KEY: 'MIICIjANBgkqhkiG9w0BAQEFAAOCAg8A' } });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^NOT_CONFIGURED: KEYSMITH_PADDLE_PUBLIC_KEY is not a PEM public key/);
  });

  it('accepts PEM keys written with literal \\n escapes (env files)', async () => {
    const escaped = LIVE_PEM.trimEnd().replace(/\n/g, '\\n');
    expect(escaped).not.toContain('\n');
    const { answer } = await deliver(post(signed(pilotmoon)), { secrets: { KEYSMITH_PADDLE_PUBLIC_KEY: escaped } });
    expect(answer.status).toBe(200);
  });

  it('marks the order live by the key that matched: live key → live, sandbox key → test order', async () => {
    expect((await deliver(post(signed(pilotmoon, live.privateKey)))).events[0]!.live).toBe(true);
    expect((await deliver(post(signed(pilotmoon, sandbox.privateKey)))).events[0]!.live).toBe(false);
    // Only a sandbox key configured (trying Paddle's sandbox first): accepted, as test orders.
    const sandboxOnly = await deliver(post(signed(pilotmoon, sandbox.privateKey)), { secrets: { KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY: SANDBOX_PEM } });
    expect(sandboxOnly.answer.status).toBe(200);
    expect(sandboxOnly.events[0]!.live).toBe(false);
  });

  it.each([
    ['p_order_id missing', { p_order_id: undefined }, /^MALFORMED: p_order_id: is required/],
    ['p_order_id empty', { p_order_id: '' }, /^MALFORMED: p_order_id: is required/],
    ['p_product_id missing', { p_product_id: undefined }, /^MALFORMED: p_product_id: is required/],
    ['p_quantity and quantity missing', { p_quantity: undefined, quantity: undefined }, /^MALFORMED: p_quantity: is required/],
    ['p_quantity 0', { p_quantity: '0' }, /^MALFORMED: p_quantity: must be at least 1/],
    ['p_quantity negative', { p_quantity: '-1' }, /^MALFORMED: p_quantity: must be a whole number/],
    ['p_quantity a fraction', { p_quantity: '1.5' }, /^MALFORMED: p_quantity: must be a whole number/],
    ['p_quantity not a number', { p_quantity: 'two' }, /^MALFORMED: p_quantity: must be a whole number/],
    ['p_quantity above 10000', { p_quantity: '10001' }, /^MALFORMED: p_quantity: must be at most 10000/],
    ['an order id longer than 200 characters', { p_order_id: 'x'.repeat(201) }, /^MALFORMED: p_order_id: must be at most 200/],
  ])('rejects a signed request with %s with 400 and enqueues nothing', async (_name, changes, message) => {
    const { answer, events } = await deliver(post(signed(withFields(pilotmoon, changes))));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(message);
    expect(events).toHaveLength(0);
  });

  it('rejects a request that names a field twice (PHP would read the last, others the first) with 400', async () => {
    const form = `p_order_id=1&${signed(pilotmoon)}`;
    const { answer, events } = await deliver(post(form));
    expect(answer.status).toBe(400);
    expect(answer.body).toBe('MALFORMED: field "p_order_id" occurs more than once\n');
    expect(events).toHaveLength(0);
  });

  it('falls back to the deprecated quantity field when p_quantity is absent', async () => {
    const { answer, events } = await deliver(post(signed(withFields(pilotmoon, { p_quantity: undefined, quantity: '2' }))));
    expect(answer.status).toBe(200);
    expect(events[0]!.items[0]!.quantity).toBe(2);
    expect(keysIn(answer.body)).toHaveLength(2);
  });

  it('answers 413 for an oversized body before verifying it, and for an oversized query string', async () => {
    const big = post(Buffer.alloc(paddle.maxBodyBytes + 1, 0x61));
    expect((await deliver(big)).answer.status).toBe(413);
    const { answer, events } = await deliver(get('a='.padEnd(paddle.maxBodyBytes + 2, 'b')));
    expect(answer.status).toBe(413);
    expect(events).toHaveLength(0);
  });

  it('answers 415 for a body that is not a form', async () => {
    const { answer } = await deliver(post(signed(pilotmoon), '/webhooks/paddle', { 'content-type': 'application/json' }));
    expect(answer.status).toBe(415);
  });

  it('answers a replayed request byte for byte the same, with the same event id (the worker applies it once)', async () => {
    const form = signed(withFields(pilotmoon, { p_quantity: '3' }));
    const first = await deliver(post(form));
    const again = await deliver(viaApiGateway(form));
    expect(again.answer.body).toBe(first.answer.body);
    expect(Buffer.from(again.answer.body).equals(Buffer.from(first.answer.body))).toBe(true);
    expect(again.events[0]!.eventId).toBe(first.events[0]!.eventId);
    const ctx = workerContext(testSecrets(), exampleCatalog());
    const state = apply(undefined, first.events[0]!, ctx).state;
    expect(apply(state, again.events[0]!, ctx).duplicate).toBe(true);
  });

  it('answers exactly p_quantity keys, the very keys the worker stores for the order', async () => {
    const { answer, events } = await deliver(post(signed(withFields(pilotmoon, { p_order_id: '424242', p_quantity: '5' }))));
    expect(answer.status).toBe(200);
    const lines = answer.body.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.every((line) => line.startsWith('- '))).toBe(true);
    const keys = keysIn(answer.body);
    expect(new Set(keys).size).toBe(5);

    const store = new MemoryStore();
    const mailer = new MemoryMailer();
    await processEvent(
      events[0]!,
      { store, mailer, context: () => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date() }), log: silentLogger() },
      { firstDelivery: true, claimToken: 'm1' },
    );
    const stored = store.items.get('paddle#424242')!.state as Entitlement;
    expect(stored.licenses.map((l) => l.key)).toEqual(keys);
    // Paddle emails our answer itself; the worker sends nothing.
    expect(mailer.sent).toHaveLength(0);
  });

  it('escapes every Markdown special character', () => {
    expect(escapeMarkdown('\\`*_{}[]()#+-.!|<>')).toBe('\\\\\\`\\*\\_\\{\\}\\[\\]\\(\\)\\#\\+\\-\\.\\!\\|\\<\\>');
    expect(escapeMarkdown('ABCDE-12345')).toBe('ABCDE\\-12345');
  });

  it('escapes signed licenses (JWS: dots, dashes, underscores) so they print as issued', async () => {
    const catalog = catalogWith({ products: { default: { name: 'Example App', license: { format: 'signed' } } }, defaultProduct: 'default' });
    const secrets = { ...KEYS, KEYSMITH_LICENSE_SIGNING_KEY: SIGNING_KEY };
    const { answer, events } = await deliver(post(signed(withFields(pilotmoon, { p_quantity: '2' }))), { catalog, secrets });
    expect(answer.status).toBe(200);
    const tokens = keysIn(answer.body);
    expect(tokens).toEqual(workerKeys(events[0]!, catalog, { KEYSMITH_LICENSE_SIGNING_KEY: SIGNING_KEY }));
    expect(tokens[0]!.split('.')).toHaveLength(3);
    // Nothing unescaped is left that Markdown would read as formatting.
    expect(answer.body.replace(/^- /gm, '').replace(/\\[\\`*_{}[\]()#+\-.!|<>]/g, '')).not.toMatch(/[\\`*_{}[\]()#+\-.!|<>]/);
  });

  it('answers a politely worded 200 when no catalog product matches — the paid order is still queued', async () => {
    const catalog = catalogWith({ products: { other: { name: 'Other', match: { paddle: ['999'] } } }, defaultProduct: undefined });
    const { answer, events } = await deliver(post(signed(pilotmoon)), { catalog });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('Thank you for your order\\. Your license will be sent to you separately; if you have any questions, please contact us and quote order 573239\\.\n');
    expect(events).toHaveLength(1);
  });

  it(`keeps even the largest orders under Paddle's ${MAX_ANSWER_BYTES} bytes (units past the per-order limit share one license)`, async () => {
    const catalog = catalogWith({ products: { default: { name: 'Example App', license: { format: 'signed' } } }, defaultProduct: 'default' });
    const secrets = { ...KEYS, KEYSMITH_LICENSE_SIGNING_KEY: SIGNING_KEY };
    const { answer, events } = await deliver(post(signed(withFields(pilotmoon, { p_quantity: '10000' }))), { catalog, secrets });
    expect(answer.status).toBe(200);
    expect(Buffer.byteLength(answer.body)).toBeLessThan(MAX_ANSWER_BYTES);
    // Signed tokens (~0.5 KB each) live in the order item: their per-order limit is lower.
    expect(answer.body.split('\n').filter((line) => line.startsWith('- '))).toHaveLength(MAX_SIGNED_UNIT_LICENSES + 1);
    expect(events).toHaveLength(1);
    const most = await deliver(post(signed(withFields(pilotmoon, { p_quantity: '10000' }))));
    expect(most.answer.status).toBe(200);
    expect(most.answer.body.split('\n').filter((line) => line.startsWith('- '))).toHaveLength(MAX_UNIT_LICENSES + 1);
    expect(Buffer.byteLength(most.answer.body)).toBeLessThan(MAX_ANSWER_BYTES);
  });

  it('answers 503 (Paddle retries) when the queue refuses the event, and when the license secret is missing', async () => {
    const refusing = new MemoryQueue();
    refusing.failWith = () => true;
    expect((await deliver(post(signed(pilotmoon)), { queue: refusing })).answer.status).toBe(503);
    const noSecret = new MemoryQueue();
    const answer = await runIngress(paddle, post(signed(pilotmoon)), {
      queue: noSecret,
      catalog: exampleCatalog(),
      secrets: async () => testSecrets({ ...KEYS, KEYSMITH_LICENSE_SECRET: '' }),
      log: silentLogger(),
    });
    expect(answer.status).toBe(503);
    // Already durable: the worker records it (and retries it until the secret is set).
    expect(noSecret.sent).toHaveLength(1);
  });

  it('takes the time from event_time, else p_event_time, else the time received', async () => {
    const at = async (changes: Record<string, string | undefined>) => (await deliver(post(signed(withFields(pilotmoon, changes))))).events[0]!.occurredAt;
    expect(await at({})).toBe('2023-03-11T19:58:09.000Z');
    expect(await at({ event_time: undefined, p_event_time: '2024-02-29 23:59:59' })).toBe('2024-02-29T23:59:59.000Z');
    expect(await at({ p_event_time: '2024-02-29 23:59:59' })).toBe('2023-03-11T19:58:09.000Z');
    expect(await at({ event_time: undefined })).toBe(RECEIVED.toISOString());
  });

  it('recognizes the customer under the documented custom field names', async () => {
    const base = withFields(pilotmoon, { email: undefined, name: undefined, product: undefined });
    const a = await deliver(post(signed([...base, ['customer_email', 'a@example.com'], ['customer_name', 'Ann']])));
    expect(a.events[0]!.customer).toEqual({ email: 'a@example.com', name: 'Ann' });
    const b = await deliver(post(signed([...base, ['customerEmail', 'b@example.com'], ['customerName', 'Bob']])));
    expect(b.events[0]!.customer).toEqual({ email: 'b@example.com', name: 'Bob' });
    const none = await deliver(post(signed(base)));
    expect(none.events[0]!.customer).toEqual({ email: '' });
    expect(none.events[0]!.items).toEqual([{ productId: '47023', quantity: 1 }]);
  });

  it('treats custom fields named like object internals as plain fields', async () => {
    const { answer, events } = await deliver(post(signed([...pilotmoon, ['constructor', 'x'], ['__proto__', 'y'], ['toString', 'z']])));
    expect(answer.status).toBe(200);
    expect(events).toHaveLength(1);
  });
});

// ── alerts ────────────────────────────────────────────────────────────────────────────────────
describe('Paddle alerts', () => {
  const refund: Fields = [
    ['alert_name', 'payment_refunded'],
    ['alert_id', '1865432101'],
    ['amount', '15.28'],
    ['currency', 'USD'],
    ['email', 'blackhole+640cdd5197baf@paddle.com'],
    ['event_time', '2023-03-12 08:00:00'],
    ['order_id', '573239'],
    ['refund_type', 'full'],
  ];
  const dispute = (name: string, id: string, status: string): Fields => [
    ['alert_name', name],
    ['alert_id', id],
    ['email', 'blackhole+640cdd5197baf@paddle.com'],
    ['event_time', '2023-03-13 08:00:00'],
    ['order_id', '573239'],
    ['status', status],
  ];
  const alert = (fields: Fields, key?: KeyObject) => post(signed(fields, key), '/webhooks/paddle/alerts');

  it('revokes the whole order on a full refund: same scope as the fulfillment, empty answer', async () => {
    const { answer, events } = await deliver(alert(refund));
    expect(answer).toEqual({ status: 200, body: '' });
    expect(events).toEqual([
      {
        provider: 'paddle',
        eventId: '1865432101',
        occurredAt: '2023-03-12T08:00:00.000Z',
        action: 'revoke',
        reason: 'payment_refunded',
        scope: '573239',
        live: true,
        customer: { email: 'blackhole+640cdd5197baf@paddle.com' },
        items: [],
      },
    ]);
  });

  it('accepts the PHP-signed refund alert (committed vector)', async () => {
    const request = vectors.requests.find((r) => r.path === '/webhooks/paddle/alerts')!;
    const { answer, events } = await deliver(post(request.form, request.path), { secrets: { KEYSMITH_PADDLE_PUBLIC_KEY: vectors.publicKey } });
    expect(answer.status).toBe(200);
    expect(events[0]).toMatchObject({ action: 'revoke', scope: '900001', customer: { email: 'jürgen.müller+keys@exämple.de' } });
  });

  it.each([
    ['partial', 'record'],
    ['vat', 'record'],
    ['something new', 'revoke'],
    ['', 'revoke'],
  ])('maps a "%s" refund to %s', async (refundType, action) => {
    const { events } = await deliver(alert(withFields(refund, { refund_type: refundType })));
    expect(events[0]!.action).toBe(action);
  });

  it('revokes (reversibly) on a dispute, reinstates when Paddle closes it (won), and the licenses follow', async () => {
    const created = (await deliver(alert(dispute('payment_dispute_created', '2001', 'pending')))).events[0]!;
    const closed = (await deliver(alert(dispute('payment_dispute_closed', '2002', 'closed')))).events[0]!;
    expect([created.action, created.reversible, created.scope, closed.action, closed.scope]).toEqual(['revoke', true, '573239', 'reinstate', '573239']);

    const order = (await deliver(post(signed(withFields(pilotmoon, { p_quantity: '2' }))))).events[0]!;
    const ctx = workerContext(testSecrets(), exampleCatalog());
    let state = apply(undefined, order, ctx).state;
    state = apply(state, created, ctx).state;
    // A dispute is a hold that can still be lifted: suspended, not revoked.
    expect([state.status, ...state.licenses.map((l) => l.status)]).toEqual(['suspended', 'suspended', 'suspended']);
    expect(state.holds.map((h) => h.kind)).toEqual(['disputed']);
    state = apply(state, closed, ctx).state;
    expect(state.licenses.map((l) => l.status)).toEqual(['active', 'active']);
    const refunded = (await deliver(alert(refund))).events[0]!;
    state = apply(state, refunded, ctx).state;
    expect([state.status, ...state.licenses.map((l) => l.status)]).toEqual(['revoked', 'revoked', 'revoked']);
    expect(state.holds.map((h) => h.kind)).toEqual(['revoked']);
  });

  it('records every other alert, on its order, subscription or own id', async () => {
    const other = (fields: Fields) => deliver(alert(fields)).then((d) => d.events[0]!);
    expect(
      await other([
        ['alert_name', 'payment_succeeded'],
        ['alert_id', '3001'],
        ['order_id', '573239'],
      ]),
    ).toMatchObject({ action: 'record', reason: 'payment_succeeded', scope: '573239' });
    expect(
      await other([
        ['alert_name', 'subscription_created'],
        ['alert_id', '3002'],
        ['subscription_id', '77'],
      ]),
    ).toMatchObject({ action: 'record', scope: '77' });
    expect(
      await other([
        ['alert_name', 'high_risk_transaction_created'],
        ['alert_id', '3003'],
      ]),
    ).toMatchObject({ action: 'record', scope: 'alert#3003' });
  });

  it('verifies alerts like fulfillments: wrong key → 401, sandbox key → test order, trailing slash routed', async () => {
    const forged = await deliver(alert(refund, stranger.privateKey));
    expect(forged.answer.status).toBe(401);
    expect(forged.events).toHaveLength(0);
    expect((await deliver(alert(refund, sandbox.privateKey))).events[0]!.live).toBe(false);
    const slash = await deliver(post(signed(refund), '/webhooks/paddle/alerts/'));
    expect(slash.events[0]!.action).toBe('revoke');
  });

  it.each([
    ['no alert_id', withFields(refund, { alert_id: undefined }), /^MALFORMED: alert_id: is required/],
    ['no alert_name', withFields(refund, { alert_name: undefined }), /^MALFORMED: alert_name: is required/],
    ['a refund without order_id', withFields(refund, { order_id: undefined }), /^MALFORMED: order_id: is required for payment_refunded/],
  ])('rejects a signed alert with %s with 400', async (_name, fields, message) => {
    const { answer, events } = await deliver(alert(fields));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(message);
    expect(events).toHaveLength(0);
  });

  it('answers 503 when the queue refuses the alert', async () => {
    const queue = new MemoryQueue();
    queue.failWith = () => true;
    expect((await deliver(alert(refund), { queue })).answer.status).toBe(503);
  });
});
