import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSRecord } from 'aws-lambda';
import { SECRET_NAMES } from '../../../functions/providers/registry';
import { QUEUE, TABLE } from '../../../functions/settings';
import { tableIndexes } from '../../../lib/local/definitions';
import { type LocalStack, startLocalStack } from '../../../lib/local/stack';
import { rawRequest } from './support';

/** The whole local stack with fake handlers that talk to the emulators through the SDK. */

describe('local stack', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'keysmith-stack-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('runs a webhook through ingress, queue and worker with the AWS environment the functions get', async () => {
    // Prepare: an ingress that enqueues the raw body and a worker that stores it, both using
    // SDK clients built from the environment alone, as the real handlers do.
    const received: APIGatewayProxyEventV2[] = [];
    const processed: SQSRecord[] = [];
    const stack = await startLocalStack({
      port: 0,
      stateDir,
      log: false,
      handlers: {
        ingress: {
          fastspring: async (event) => {
            received.push(event);
            const sqs = new SQSClient({});
            try {
              await sqs.send(new SendMessageCommand({ QueueUrl: process.env.KEYSMITH_QUEUE_URL!, MessageBody: event.body!, MessageGroupId: 'order-1', MessageDeduplicationId: 'evt-1' }));
            } finally {
              sqs.destroy();
            }
            return { statusCode: 202, body: 'queued' };
          },
        },
        worker: async (event) => {
          const dynamo = new DynamoDBClient({});
          try {
            for (const record of event.Records) {
              await dynamo.send(new PutItemCommand({ TableName: process.env.KEYSMITH_TABLE_NAME!, Item: { pk: { S: 'ORDER#1' }, sk: { S: 'EVENT' }, body: { S: record.body } } }));
              processed.push(record);
            }
          } finally {
            dynamo.destroy();
          }
          return { batchItemFailures: [] };
        },
      },
    });
    try {
      // Act
      const info = JSON.parse((await rawRequest(`${stack.url}/_local/stack`)).body.toString());
      const res = await rawRequest(info.routes.fastspring[0].url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"events":[1]}' });
      await stack.poller.drain(10_000);

      // Assess
      expect(res.status).toBe(202);
      expect(received[0]!.routeKey).toBe('POST /webhooks/fastspring');
      expect(processed.map((r) => r.body)).toEqual(['{"events":[1]}']);
      const dynamo = new DynamoDBClient({});
      const item = await dynamo.send(new GetItemCommand({ TableName: TABLE.name, Key: { pk: { S: 'ORDER#1' }, sk: { S: 'EVENT' } } }));
      dynamo.destroy();
      expect(item.Item?.body?.S).toBe('{"events":[1]}');

      expect(info).toEqual({
        url: stack.url,
        port: stack.port,
        endpoints: stack.endpoints,
        queueUrl: stack.queueUrl,
        dlqUrl: stack.dlqUrl,
        tableName: 'keysmith',
        region: 'us-east-1',
        secretsFile: join(stateDir, 'dev-secrets.env'),
        inboxUrl: `${stack.endpoints.ses}/`,
        // Locally the license API is served on the same port as the webhooks.
        licensingUrl: stack.url,
        routes: { fastspring: [{ method: 'POST', path: '/webhooks/fastspring', url: `${stack.url}/webhooks/fastspring` }] },
      });
      expect(stack.url).toBe(`http://127.0.0.1:${stack.port}`);
      expect(process.env).toMatchObject({
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
        AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
        AWS_ENDPOINT_URL_SES: stack.endpoints.ses,
        AWS_ENDPOINT_URL_SESV2: stack.endpoints.ses,
        KEYSMITH_QUEUE_URL: stack.queueUrl,
        KEYSMITH_DLQ_URL: stack.dlqUrl,
        KEYSMITH_TABLE_NAME: 'keysmith',
        KEYSMITH_CONFIG: expect.stringMatching(/config\/keysmith\.example\.json$/),
      });
      for (const name of SECRET_NAMES) expect(process.env[name]).toBe(stack.env[name]);
    } finally {
      await stack.stop();
    }
  });

  it('creates the queue, DLQ and table from the settings', async () => {
    const stack = await startLocalStack({ port: 0, stateDir, log: false, handlers: { ingress: {}, worker: async () => undefined } });
    const sqs = new SQSClient({});
    const dynamo = new DynamoDBClient({});
    try {
      const queue = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ['All'] }))).Attributes!;
      const dlq = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.dlqUrl, AttributeNames: ['All'] }))).Attributes!;
      const table = (await dynamo.send(new DescribeTableCommand({ TableName: TABLE.name }))).Table!;

      expect(stack.queueUrl).toMatch(new RegExp(`/000000000000/${QUEUE.name.replace('.', '\\.')}$`));
      expect(queue).toMatchObject({
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        VisibilityTimeout: String(QUEUE.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(QUEUE.retentionSeconds),
      });
      expect(JSON.parse(queue.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlq.QueueArn, maxReceiveCount: QUEUE.maxReceiveCount });
      expect(dlq).toMatchObject({ FifoQueue: 'true', QueueArn: `arn:aws:sqs:us-east-1:000000000000:${QUEUE.dlqName}` });

      expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.KeySchema).toEqual([
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ]);
      const indexes = Object.fromEntries((table.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.KeySchema?.map((k) => k.AttributeName)]));
      expect(indexes).toMatchObject({
        [TABLE.emailIndex.name]: [TABLE.emailIndex.partitionKey, TABLE.emailIndex.sortKey],
        [TABLE.orderIndex.name]: [TABLE.orderIndex.partitionKey, TABLE.orderIndex.sortKey],
      });
      expect(indexes).toEqual(Object.fromEntries(tableIndexes().map((i) => [i.name, [i.partitionKey, i.sortKey]])));
      expect(Object.keys(indexes).length).toBeGreaterThanOrEqual(2);
    } finally {
      sqs.destroy();
      dynamo.destroy();
      await stack.stop();
    }
  });

  it('points SES at the local inbox', async () => {
    const stack = await startLocalStack({ port: 0, stateDir, log: false, handlers: { ingress: {}, worker: async () => undefined } });
    const ses = new SESClient({});
    try {
      const subject = `local inbox ${Date.now()}`;
      await ses.send(
        new SendEmailCommand({
          Source: 'licenses@example.com',
          Destination: { ToAddresses: ['buyer@example.com'] },
          Message: { Subject: { Data: subject }, Body: { Text: { Data: 'hello' } } },
        }),
      );
      const store = JSON.parse((await rawRequest(`${stack.endpoints.ses}/store`)).body.toString());
      expect(store.emails.map((e: { subject: string }) => e.subject)).toContain(subject);
    } finally {
      ses.destroy();
      await stack.stop();
    }
  });

  it('stops quickly, closes every port and restores the environment', async () => {
    // Prepare
    const before = process.env.KEYSMITH_QUEUE_URL;
    process.env.KEYSMITH_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123:secret:real';
    const stack = await startLocalStack({ port: 0, stateDir, log: false, handlers: { ingress: {}, worker: async () => undefined } });
    expect(process.env.KEYSMITH_SECRET_ARN).toBeUndefined();

    // Act
    const started = Date.now();
    await stack.stop();
    const took = Date.now() - started;

    // Assess
    // An open keep-alive connection would hold close() for its 5 s timeout; a busy CI machine
    // may take a second or two to stop the emulator thread, which is not what this guards.
    expect(took).toBeLessThan(3500);
    for (const url of [stack.url, stack.endpoints.sqs, stack.endpoints.dynamodb, stack.endpoints.ses]) {
      await expect(rawRequest(`${url}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
    expect(process.env.KEYSMITH_QUEUE_URL).toBe(before);
    expect(process.env.KEYSMITH_SECRET_ARN).toBe('arn:aws:secretsmanager:us-east-1:123:secret:real');
    delete process.env.KEYSMITH_SECRET_ARN;
    await expect(stack.stop()).resolves.toBeUndefined();
  });

  it('reuses its dev secrets across restarts and lets the environment override them', async () => {
    // Act
    const first = await startLocalStack({ port: 0, stateDir, log: false, handlers: { ingress: {}, worker: async () => undefined } });
    await first.stop();
    process.env.KEYSMITH_HOTMART_HOTTOK = 'from-the-shell';
    let second: LocalStack | undefined;
    try {
      second = await startLocalStack({ port: 0, stateDir, log: false, handlers: { ingress: {}, worker: async () => undefined } });
    } finally {
      await second?.stop();
      delete process.env.KEYSMITH_HOTMART_HOTTOK;
    }

    // Assess
    expect(second!.secretsFile).toBe(first.secretsFile);
    for (const name of SECRET_NAMES.filter((n) => n !== 'KEYSMITH_HOTMART_HOTTOK')) expect(second!.env[name]).toBe(first.env[name]);
    expect(second!.env.KEYSMITH_HOTMART_HOTTOK).toBe('from-the-shell');
    expect(first.env.KEYSMITH_HOTMART_HOTTOK).not.toBe('from-the-shell');
  });

  it('explains a port that is taken and leaves nothing running', async () => {
    const first = await startLocalStack({ port: 0, stateDir, log: false, handlers: { ingress: {}, worker: async () => undefined } });
    try {
      await expect(startLocalStack({ port: first.port, stateDir, log: false, handlers: { ingress: {}, worker: async () => undefined } })).rejects.toThrow(
        new RegExp(`port ${first.port} .* is in use`),
      );
      // The failed start restored the environment the first stack set.
      expect(process.env.KEYSMITH_QUEUE_URL).toBe(first.queueUrl);
    } finally {
      await first.stop();
    }
  });

  it('rejects a broken config before starting anything', async () => {
    await expect(startLocalStack({ port: 0, stateDir, log: false, configPath: join(stateDir, 'missing.json'), handlers: { ingress: {}, worker: async () => undefined } })).rejects.toThrow(
      /cannot read keysmith config .*missing\.json/,
    );
  });
});
