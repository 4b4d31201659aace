import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SesMailer } from '../../../functions/aws/mailer';
import { secretsFrom } from '../../../functions/aws/secrets';
import { DynamoEntitlementStore } from '../../../functions/aws/store';
import { loadCatalog } from '../../../functions/config/loadCatalog';
import type { ProviderName } from '../../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { SampleOptions, SampleRequest } from '../../../functions/providers/sample';
import { createWorker, type WorkerDeps } from '../../../functions/worker/handler';
import { readDevSecrets } from '../../../lib/local/devSecrets';
import { localClientConfig } from '../../../lib/local/emulators';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../../lib/local/stack';
import { queueDepth } from '../../../lib/queueDepth';
import { silentLogger } from '../../helpers/memory';
import { type RawResponse, rawRequest } from '../local/support';

/**
 * A local stack with the real handlers (or a real worker built with injected faults), plus the
 * clients a test needs to look at the emulators directly.
 */
export interface Harness {
  stack: LocalStack;
  stateDir: string;
  store: DynamoEntitlementStore;
  /** The worker's own store, when the harness built the worker (`worker` option): it tracks the largest item written. */
  workerStore?: DynamoEntitlementStore;
  /** The secrets the stack verifies with, plus the dev private keys (to sign requests). */
  secrets: Record<string, string | undefined>;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  ses: SESClient;
  send(request: SampleRequest, mutate?: (body: Buffer) => Buffer): Promise<RawResponse>;
  sample(provider: ProviderName, options?: Omit<SampleOptions, 'secrets'>): Promise<SampleRequest>;
  emails(to?: string): Promise<{ to: string; subject: string; text: string; html: string; messageId: string }[]>;
  queueDepth(url: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startHarness(
  options: Omit<LocalStackOptions, 'port' | 'stateDir' | 'log'> & { worker?: (clients: { dynamo: DynamoDBClient; ses: SESClient }) => Partial<WorkerDeps> } = {},
): Promise<Harness> {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const stateDir = mkdtempSync(join(tmpdir(), 'keysmith-e2e-'));
  let workerClients: { dynamo: DynamoDBClient; ses: SESClient } | undefined;
  const { worker: workerOverrides, ...stackOptions } = options;
  // A worker wired like the real one, but from clients the test may fault-inject.
  let injected: ReturnType<typeof createWorker> | undefined;
  let workerStore: DynamoEntitlementStore | undefined;
  const stack = await startLocalStack({
    ...stackOptions,
    port: 0,
    stateDir,
    log: false,
    ...(workerOverrides
      ? {
          handlers: {
            ...stackOptions.handlers,
            worker: (event) => {
              if (!injected) throw new Error('worker not ready');
              return injected(event);
            },
          },
        }
      : {}),
  });
  const dynamo = new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb));
  const ses = new SESClient(localClientConfig(stack.endpoints.ses));
  const sqs = new SQSClient(localClientConfig(stack.endpoints.sqs));
  const store = new DynamoEntitlementStore(dynamo, stack.tableName);
  if (workerOverrides) {
    const wDynamo = new DynamoDBClient({ ...localClientConfig(stack.endpoints.dynamodb), maxAttempts: 3 });
    const wSes = new SESClient({ ...localClientConfig(stack.endpoints.ses), maxAttempts: 1 });
    workerClients = { dynamo: wDynamo, ses: wSes };
    workerStore = new DynamoEntitlementStore(wDynamo, stack.tableName);
    const base: WorkerDeps = {
      store: workerStore,
      mailer: new SesMailer(wSes, loadCatalog().sender),
      secrets: async () => secretsFrom(stack.env),
      log: silentLogger(),
      delay: async (record, seconds) => {
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }));
      },
    };
    injected = createWorker({ ...base, ...workerOverrides(workerClients) });
  }
  const secrets = { ...stack.env, ...readDevSecrets(stateDir) };
  return {
    stack,
    stateDir,
    store,
    ...(workerStore ? { workerStore } : {}),
    secrets,
    sqs,
    dynamo,
    ses,
    send: (request, mutate) => rawRequest(`${stack.url}${request.path}`, { method: request.method, headers: request.headers, body: mutate ? mutate(request.body) : request.body }),
    sample: async (provider, sampleOptions = {}) => {
      const registration = WEBHOOK_PROVIDERS.find((p) => p.name === provider)!;
      return (await registration.sample()).build({ secrets, ...sampleOptions });
    },
    emails: async (to) => {
      const store = JSON.parse((await rawRequest(`${stack.endpoints.ses}/store`)).body.toString()) as {
        emails: { destination: { to: string[] }; subject: string; body: { text?: string; html?: string }; messageId: string }[];
      };
      return store.emails
        .flatMap((e) => e.destination.to.map((t) => ({ to: t, subject: e.subject, text: e.body.text ?? '', html: e.body.html ?? '', messageId: e.messageId })))
        .filter((e) => !to || e.to === to);
    },
    queueDepth: async (url) => (await queueDepth(sqs, url, 'local')).total,
    stop: async () => {
      await stack.stop();
      for (const client of [dynamo, ses, sqs, workerClients?.dynamo, workerClients?.ses]) client?.destroy();
      rmSync(stateDir, { recursive: true, force: true });
      jest.restoreAllMocks();
    },
  };
}
