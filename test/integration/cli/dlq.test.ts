import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { DynamoFailureLog } from '../../../functions/aws/failureLog';
import { SesMailer } from '../../../functions/aws/mailer';
import { secretsFrom } from '../../../functions/aws/secrets';
import { DynamoEntitlementStore } from '../../../functions/aws/store';
import { loadCatalog } from '../../../functions/config/loadCatalog';
import type { Entitlement } from '../../../functions/domain/entitlement';
import { createWorker } from '../../../functions/worker/handler';
import { localClientConfig } from '../../../lib/local/emulators';
import { type LocalStack, startLocalStack } from '../../../lib/local/stack';
import { silentLogger } from '../../helpers/memory';
import { eventually } from '../local/support';
import { buildCli, cli } from './support';

/**
 * A poisoned event: the real worker, with a store that refuses to write two orders until the
 * fault is "fixed". After maxReceiveCount deliveries the poller moves them to the DLQ; the CLI
 * lists them decoded, with the worker's last error; after the fix one is redriven by id
 * (receive → send → delete) and the other with --all (SQS move task), and each order ends up
 * fulfilled exactly once: its licenses, one email.
 */

interface DlqList {
  count: number;
  messages: { messageId: string; valid: boolean; provider: string; action: string; order: string; customer: string; lastError: { name: string; message: string; receiveCount: number } | null }[];
}

describe('keysmith dlq: a poisoned event through the DLQ and back, fulfilled exactly once', () => {
  let stack: LocalStack;
  let stateDir: string;
  const clients: { destroy(): void }[] = [];
  const poisoned = new Set<string>();
  let fixed = false;
  const stamp = Date.now();
  const orders = { byId: `poison-a-${stamp}`, byAll: `poison-b-${stamp}` };
  const buyers = { byId: `a-${stamp}@example.com`, byAll: `b-${stamp}@example.com` };

  const run = (...args: string[]) => cli(args, { port: stack.port });
  const emailsTo = async (to: string): Promise<number> => (await run('emails', '--to', to, '--json')).json<unknown[]>().length;
  const licensesOf = async (order: string): Promise<number> => (await run('licenses', '--order', order, '--json')).json<unknown[]>().length;

  beforeAll(async () => {
    buildCli();
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stateDir = mkdtempSync(join(tmpdir(), 'keysmith-cli-dlq-'));
    let worker: ReturnType<typeof createWorker> | undefined;
    stack = await startLocalStack({
      port: 0,
      stateDir,
      log: false,
      queueOverrides: { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 },
      handlers: { worker: (event) => worker!(event) },
    });
    const dynamo = new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb));
    const ses = new SESClient(localClientConfig(stack.endpoints.ses));
    clients.push(dynamo, ses);
    const real = new DynamoEntitlementStore(dynamo, stack.tableName);
    // The fault: writes of the poisoned orders fail, before anything is stored.
    const store = Object.assign(Object.create(real) as DynamoEntitlementStore, {
      put: (state: Entitlement, expected: number) => {
        if (poisoned.has(state.scope) && !fixed) return Promise.reject(new Error(`injected fault: table unavailable for ${state.scope}`));
        return real.put(state, expected);
      },
    });
    // No backoff (`delay`): with a 1 s visibility timeout the three deliveries take seconds.
    worker = createWorker({
      store,
      mailer: new SesMailer(ses, loadCatalog().sender),
      secrets: async () => secretsFrom(stack.env),
      log: silentLogger(),
      failures: new DynamoFailureLog(dynamo, stack.tableName),
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    for (const client of clients) client.destroy();
    jest.restoreAllMocks();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('lands in the DLQ after maxReceiveCount, is listed decoded with its last error, and is redriven once fixed', async () => {
    // Prepare: two orders whose writes fail.
    poisoned.add(orders.byId).add(orders.byAll);
    for (const key of ['byId', 'byAll'] as const) {
      const sent = await run('send', 'fastspring', '--order', orders[key], '--email', buyers[key], '--json');
      expect(sent.code).toBe(0);
    }

    // Act 1: three failed deliveries each, then the poller dead-letters them.
    await eventually(() => (stack.poller.stats().deadLettered >= 2 ? true : undefined), 30_000, 'two messages in the DLQ');

    // Assess 1: listed and decoded, with the worker's last error; doctor says ✘.
    // One after the other: listing receives the messages for a moment (SQS has no peek), so two
    // concurrent listings would each see only what the other was not holding.
    const listed = await run('dlq', 'list', '--json');
    const human = await run('dlq', 'list');
    const doctor = await run('doctor');
    const list = listed.json<DlqList>();
    expect(list.count).toBe(2);
    const byOrder = new Map(list.messages.map((m) => [m.order, m]));
    for (const key of ['byId', 'byAll'] as const) {
      expect(byOrder.get(orders[key])).toMatchObject({
        valid: true,
        provider: 'fastspring',
        action: 'grant',
        customer: buyers[key],
        lastError: { name: 'Error', message: `injected fault: table unavailable for ${orders[key]}`, receiveCount: 3 },
      });
    }
    expect(human.stdout).toMatch(/2 message\(s\) in the DLQ/);
    expect(human.stdout).toMatch(/injected fault/);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^✘ dlq\s+the DLQ holds 2 message/m);

    const id = byOrder.get(orders.byId)!.messageId;
    const shown = await run('dlq', 'show', id, '--json');
    expect(shown.json()).toMatchObject({ messageId: id, event: { provider: 'fastspring', scope: orders.byId, action: 'grant' }, attributes: expect.any(Object) });
    // Listing gave everything back: nothing is held in flight.
    expect((await run('dlq', 'list', '--json')).json<DlqList>().messages).toHaveLength(2);
    expect(await licensesOf(orders.byId)).toBe(0);

    // Act 2: fix the fault, redrive one by id, then the rest.
    fixed = true;
    const one = await run('dlq', 'redrive', '--id', id, '--json');
    expect(one.code).toBe(0);
    expect(one.json()).toMatchObject({ method: 'resend', moved: 1, status: 'COMPLETED', messages: [{ messageId: id, group: expect.any(String) }] });
    const rest = await run('dlq', 'redrive', '--all', '--rate', '50', '--json');
    expect(rest.code).toBe(0);
    expect(rest.json()).toMatchObject({ method: 'move-task', moved: 1, status: 'COMPLETED' });
    await eventually(async () => ((await licensesOf(orders.byAll)) > 0 ? true : undefined), 20_000, 'the redriven order applied');
    await stack.poller.drain(20_000);

    // Assess 2: each order fulfilled exactly once; the DLQ is empty.
    for (const key of ['byId', 'byAll'] as const) {
      expect(await licensesOf(orders[key])).toBe(2);
      expect(await emailsTo(buyers[key])).toBe(1);
    }
    expect((await run('dlq', 'list', '--json')).json()).toEqual({ count: 0, messages: [] });
    const missing = await run('dlq', 'redrive', '--id', 'no-such-message');
    expect(missing.code).toBe(4);
  }, 90_000);
});
