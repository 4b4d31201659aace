import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { readDevSecrets } from '../../../lib/local/devSecrets';
import { type LocalStack, startLocalStack } from '../../../lib/local/stack';
import { buildCli, cli } from '../cli/support';

/**
 * `npm start` keeps its data: licenses survive a restart, an order accepted (answered 200) but
 * not yet applied when the stack stopped is applied after it starts again, and `--reset` empties
 * it. Real handlers, real emulators (dynalite on disk, the SQS journal), the CLI as a user runs it.
 */

describe('local stack restart', () => {
  let stateDir: string;
  const stacks: LocalStack[] = [];
  const start = async (options: { reset?: boolean } = {}): Promise<LocalStack> => {
    const stack = await startLocalStack({ port: 0, stateDir, log: false, persist: true, ...options });
    stacks.push(stack);
    return stack;
  };
  const sendOrder = async (stack: LocalStack, orderId: string): Promise<number> => {
    const sample = await WEBHOOK_PROVIDERS.find((p) => p.name === 'fastspring')!.sample();
    const request = sample.build({ secrets: readDevSecrets(stateDir)!, orderId });
    const response = await fetch(`${stack.url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
    return response.status;
  };
  const licenses = async (stack: LocalStack, orderId: string): Promise<string[]> => {
    const r = await cli(['licenses', '--order', orderId, '--json'], { port: stack.port });
    expect(r.code).toBe(0);
    return r.json<{ licenseId: string }[]>().map((l) => l.licenseId);
  };

  beforeAll(() => {
    buildCli();
    // The handlers log JSON lines to stdout; keep them out of the test report.
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'keysmith-restart-'));
  });
  afterEach(async () => {
    for (const stack of stacks.splice(0)) await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });
  afterAll(() => jest.restoreAllMocks());

  it('keeps applied licenses, applies what was accepted but not applied, and --reset empties it', async () => {
    // Prepare: one order applied, then the worker paused and a second order accepted.
    const first = await start();
    expect(await sendOrder(first, 'restart-applied')).toBe(200);
    await first.poller.drain(20_000);
    const applied = await licenses(first, 'restart-applied');
    expect(applied).toHaveLength(2);
    await first.poller.stop();
    expect(await sendOrder(first, 'restart-pending')).toBe(200);
    expect(await licenses(first, 'restart-pending')).toEqual([]);

    // Act: stop and start again on the same folder.
    await first.stop();
    const second = await start();
    await second.poller.drain(20_000);

    // Assess: the applied order is still there; the accepted one was put back and applied.
    expect(second.restoredMessages).toBe(1);
    expect(await licenses(second, 'restart-applied')).toEqual(applied);
    expect(await licenses(second, 'restart-pending')).toHaveLength(2);

    // Act: a restart with --reset.
    await second.stop();
    const third = await start({ reset: true });

    // Assess: nothing from before.
    expect(third.restoredMessages).toBe(0);
    expect(await licenses(third, 'restart-applied')).toEqual([]);
    expect(await licenses(third, 'restart-pending')).toEqual([]);
  }, 120_000);

  it('keeps nothing when not asked to persist (the tests, and the old in-memory behaviour)', async () => {
    const first = await startLocalStack({ port: 0, stateDir, log: false });
    stacks.push(first);
    expect(first.dataDir).toBeUndefined();
    expect(await sendOrder(first, 'memory-only')).toBe(200);
    await first.poller.drain(20_000);
    await first.stop();
    stacks.splice(0);
    const second = await startLocalStack({ port: 0, stateDir, log: false });
    stacks.push(second);
    expect(await licenses(second, 'memory-only')).toEqual([]);
  }, 60_000);
});
