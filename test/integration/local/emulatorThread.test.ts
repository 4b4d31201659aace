import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildSync } from 'esbuild';
import { localClientConfig } from '../../../lib/local/emulators';
import { startEmulatorsInThread } from '../../../lib/local/emulatorThread';
import { startLocalStack } from '../../../lib/local/stack';
import { rawRequest } from './support';

/**
 * The emulators on their own worker thread (what `npm start` does): same endpoints and queue
 * settings as in-process, DLQ moves and stop forwarded to the thread. A worker thread runs
 * JavaScript, so the test bundles a two-line entry the way bin/local.cjs bundles the stack.
 */

const root = resolve(__dirname, '..', '..', '..');
let entry: string;

beforeAll(() => {
  // Inside the project, so the bundle's external packages resolve from node_modules.
  const dir = join(root, '.build');
  mkdirSync(dir, { recursive: true });
  const source = join(dir, 'test-emulator-thread.ts');
  writeFileSync(source, `import { isEmulatorThread, serveEmulatorsInThisThread } from '../lib/local/emulatorThread';\nif (isEmulatorThread()) void serveEmulatorsInThisThread();\n`);
  entry = join(dir, 'test-emulator-thread.cjs');
  buildSync({ entryPoints: [source], outfile: entry, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', logLevel: 'error' });
  rmSync(source);
});
afterAll(() => rmSync(entry, { force: true }));

describe('emulators on their own thread', () => {
  it('serve SQS and DynamoDB on loopback, move a message to the DLQ, and stop', async () => {
    // Prepare
    const emulators = await startEmulatorsInThread(entry);
    const sqs = new SQSClient(localClientConfig(emulators.endpoints.sqs));
    const dynamo = new DynamoDBClient(localClientConfig(emulators.endpoints.dynamodb));
    try {
      // Act
      await dynamo.send(new PutItemCommand({ TableName: emulators.tableName, Item: { pk: { S: 'a' }, sk: { S: 'b' } } }));
      await sqs.send(new SendMessageCommand({ QueueUrl: emulators.queueUrl, MessageBody: 'hello', MessageGroupId: 'g', MessageDeduplicationId: 'd' }));
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emulators.queueUrl, AttributeNames: ['All'], WaitTimeSeconds: 0 }));
      await emulators.moveToDeadLetterQueue(Messages[0]!);
      const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emulators.dlqUrl, AttributeNames: ['All'], WaitTimeSeconds: 0 }));

      // Assess
      expect((await dynamo.send(new GetItemCommand({ TableName: emulators.tableName, Key: { pk: { S: 'a' }, sk: { S: 'b' } } }))).Item).toBeDefined();
      expect(dead.Messages?.[0]?.Body).toBe('hello');
      expect(dead.Messages?.[0]?.MessageId).toBe(Messages[0]!.MessageId);
    } finally {
      sqs.destroy();
      dynamo.destroy();
      await emulators.stop();
    }
    // Stopped: the endpoint no longer answers.
    await expect(rawRequest(`${emulators.endpoints.sqs}/`)).rejects.toThrow();
  });

  it('carry a real webhook through the local stack to an email', async () => {
    // Prepare
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stateDir = mkdtempSync(join(tmpdir(), 'keysmith-thread-'));
    const stack = await startLocalStack({ port: 0, stateDir, log: false, emulators: (options) => startEmulatorsInThread(entry, options) });
    try {
      const { readDevSecrets } = await import('../../../lib/local/devSecrets');
      const { fastspringSample } = await import('../../../functions/providers/fastspring/sample');
      const sample = fastspringSample.build({ secrets: { ...stack.env, ...readDevSecrets(stateDir) }, email: 'thread@example.com' });

      // Act
      const res = await rawRequest(`${stack.url}${sample.path}`, { method: sample.method, headers: sample.headers, body: sample.body });
      await stack.poller.drain(20_000);

      // Assess
      expect(res.status).toBe(200);
      const store = JSON.parse((await rawRequest(`${stack.endpoints.ses}/store`)).body.toString()) as { emails: Array<{ destination: { to: string[] } }> };
      expect(store.emails.filter((e) => e.destination.to.includes('thread@example.com'))).toHaveLength(1);
    } finally {
      await stack.stop();
      jest.restoreAllMocks();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
