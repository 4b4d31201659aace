import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { paddle } from '../../../functions/providers/paddle';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { SampleRequest } from '../../../functions/providers/sample';
import { exampleCatalog, fixture, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

/** `keysmith send paddle`: every sample is accepted by the ingress it is meant for, and by PHP. */

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_PEM = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
// As the local stack's env file holds it: one line, literal \n escapes.
const PRIVATE_PEM_ESCAPED = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trimEnd().replace(/\n/g, '\\n');
const SECRETS = { KEYSMITH_DEV_PADDLE_PRIVATE_KEY: PRIVATE_PEM_ESCAPED, KEYSMITH_PADDLE_PUBLIC_KEY: PUBLIC_PEM };
const HAS_PHP = spawnSync('php', ['-v']).status === 0;

const registration = WEBHOOK_PROVIDERS.find((p) => p.name === 'paddle')!;

function toRequest(sample: SampleRequest): WebhookRequest {
  return {
    method: sample.method,
    path: sample.path,
    routeKey: `${sample.method} ${sample.path}`,
    pathParameters: {},
    headers: sample.headers,
    rawQuery: '',
    body: sample.body,
    receivedAt: new Date(),
    requestId: 'r',
  };
}

async function deliver(sample: SampleRequest) {
  const queue = new MemoryQueue();
  const answer = await runIngress(paddle, toRequest(sample), { queue, catalog: exampleCatalog(), secrets: async () => testSecrets(SECRETS), log: silentLogger() });
  return { answer, events: queue.sent };
}

describe('Paddle registration and samples', () => {
  it('registers the fulfillment routes (GET and POST) and the alerts route on one handler', async () => {
    expect(registration.routes).toEqual([
      { method: 'GET', path: '/webhooks/paddle' },
      { method: 'POST', path: '/webhooks/paddle' },
      { method: 'POST', path: '/webhooks/paddle/alerts' },
    ]);
    expect(registration.entry).toBe('functions/providers/paddle/handler.ts');
    expect(typeof (await registration.load()).handler).toBe('function');
  });

  it('offers fulfillment first, then the alerts that change a license', async () => {
    const sample = await registration.sample();
    expect(sample.events).toEqual(['fulfillment', 'payment_refunded', 'payment_dispute_created', 'payment_dispute_closed']);
  });

  it.each([
    ['fulfillment', 'grant', '/webhooks/paddle'],
    ['payment_refunded', 'revoke', '/webhooks/paddle/alerts'],
    ['payment_dispute_created', 'revoke', '/webhooks/paddle/alerts'],
    ['payment_dispute_closed', 'reinstate', '/webhooks/paddle/alerts'],
  ])('builds a signed %s sample the ingress accepts (%s)', async (event, action, path) => {
    const sample = await (await registration.sample()).build({ secrets: SECRETS, event, orderId: '5550001', email: 'ada@example.com' });
    expect(sample).toMatchObject({ method: 'POST', path, orderId: '5550001', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const { answer, events } = await deliver(sample);
    expect(answer.status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action, scope: '5550001', customer: { email: 'ada@example.com' } });
    expect(sample.eventIds).toEqual([events[0]!.eventId]);
  });

  it('gives every fulfillment sample a fresh numeric order id', async () => {
    const builder = await registration.sample();
    const a = await builder.build({ secrets: SECRETS });
    const b = await builder.build({ secrets: SECRETS });
    expect(a.orderId).toMatch(/^[1-9][0-9]{6}$/);
    expect(a.orderId).not.toBe(b.orderId);
  });

  it('re-signs a --file: the shared field map (its old Paddle signature replaced) or a form body', async () => {
    const builder = await registration.sample();
    const fromJson = await builder.build({ secrets: SECRETS, file: fixture('paddle-fulfillment-pilotmoon.json') });
    expect(fromJson.orderId).toBe('573239');
    expect((await deliver(fromJson)).answer.status).toBe(200);
    const fromForm = await builder.build({ secrets: SECRETS, file: Buffer.from('alert_name=payment_refunded&alert_id=9&order_id=573239&refund_type=full&p_signature=old\n') });
    expect(fromForm).toMatchObject({ path: '/webhooks/paddle/alerts', orderId: '573239', eventIds: ['9'] });
    expect((await deliver(fromForm)).events[0]!.action).toBe('revoke');
  });

  it('says which secret is missing when it cannot sign', async () => {
    const builder = await registration.sample();
    // Thrown synchronously or as a rejected promise: either reaches the CLI as a message.
    await expect(async () => builder.build({ secrets: {} })).rejects.toThrow(/KEYSMITH_DEV_PADDLE_PRIVATE_KEY is not set/);
  });

  (HAS_PHP ? it : it.skip)("passes Paddle's own PHP verifier ($_POST, ksort, serialize, openssl_verify)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddle-'));
    try {
      const keyFile = join(dir, 'public.pem');
      writeFileSync(keyFile, PUBLIC_PEM);
      const builder = await registration.sample();
      for (const event of builder.events) {
        const sample = await builder.build({ secrets: SECRETS, event, email: 'zoë+test@exämple.de' });
        const run = spawnSync('php', [join(__dirname, '..', '..', 'fixtures', 'providers', 'paddle', 'verify.php'), keyFile], { input: sample.body });
        expect(run.stdout.toString()).toBe('1');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
