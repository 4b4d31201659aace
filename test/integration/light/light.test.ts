import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { LightDeliveryLog } from '../../../functions/aws/deliveryLog';
import { batchWriteItems, dynamodbClient } from '../../../functions/aws/light/dynamodb';
import { AwsCallError } from '../../../functions/aws/light/errors';
import { sqsClient } from '../../../functions/aws/light/sqs';
import { LightSqsEventQueue } from '../../../functions/aws/queue';
import { forgetSecrets, loadSecrets, prefetchSecrets } from '../../../functions/aws/secrets';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { type Emulators, localClientConfig, startEmulators } from '../../../lib/local/emulators';
import { backends, startTable, type TestTable } from '../../helpers/dynamodb';
import { NodeSha256 } from '../../helpers/nodeSha256';

/**
 * The light AWS client against real AWS-API emulators: local-aws-sqs for SendMessageBatch,
 * dynalite and Amazon's DynamoDB Local for BatchWriteItem (binary values included), and a
 * Secrets Manager stand-in that checks the SigV4 signature with the AWS SDK's own signer.
 */

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const credentials = () => CREDENTIALS;

function event(i: number): FulfillmentEvent {
  return {
    provider: 'fastspring',
    eventId: `evt-${i}`,
    occurredAt: '2026-01-01T00:00:00.000Z',
    action: 'grant',
    reason: 'order.completed',
    scope: `order-${i % 3}`,
    live: true,
    customer: { email: `buyer${i}@example.com` },
    items: [{ productId: 'app', quantity: 1 }],
  };
}

describe('light SQS client against local-aws-sqs', () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(async () => emulators?.stop());

  it('enqueues events in batches of 10 with their group and deduplication ids', async () => {
    // Prepare
    const queue = new LightSqsEventQueue(sqsClient({ endpoint: emulators.endpoints.sqs, region: 'us-east-1', credentials }), emulators.queueUrl);
    const events = Array.from({ length: 12 }, (_, i) => event(i));

    // Act
    const { accepted, failed } = await queue.send(events);

    // Assess
    expect(failed).toEqual([]);
    expect(accepted.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
    const sdk = new SQSClient(localClientConfig(emulators.endpoints.sqs));
    const received: { body: string; group?: string; dedupe?: string }[] = [];
    for (let round = 0; round < 5 && received.length < 12; round++) {
      const { Messages = [] } = await sdk.send(new ReceiveMessageCommand({ QueueUrl: emulators.queueUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'], WaitTimeSeconds: 0 }));
      for (const m of Messages) received.push({ body: m.Body!, group: m.Attributes?.MessageGroupId, dedupe: m.Attributes?.MessageDeduplicationId });
    }
    sdk.destroy();
    expect(received).toHaveLength(12);
    for (const r of received) {
      const sent = JSON.parse(r.body) as FulfillmentEvent;
      expect(sent).toEqual(events.find((e) => e.eventId === sent.eventId));
      expect(r.group).toBe(`fastspring#${sent.scope}`);
      expect(r.dedupe).toBe(`fastspring#${sent.eventId}`);
    }
  });

  it('reports every event as failed when the queue does not exist, without throwing', async () => {
    // Prepare
    const queue = new LightSqsEventQueue(sqsClient({ endpoint: emulators.endpoints.sqs, region: 'us-east-1', credentials, maxAttempts: 1 }), `${emulators.endpoints.sqs}/000000000000/missing.fifo`);

    // Act
    const { accepted, failed } = await queue.send([event(1)]);

    // Assess
    expect(accepted).toEqual([]);
    expect(failed).toHaveLength(1);
  });
});

describe.each(backends())('light DynamoDB client against %s', (backend) => {
  let table: TestTable;
  beforeAll(async () => {
    table = await startTable(backend);
  }, 180_000);
  afterAll(async () => table?.stop());

  it('writes the delivery log with its gzip payload and the predicted lookups', async () => {
    // Prepare
    const errors: unknown[] = [];
    const log = new LightDeliveryLog(dynamodbClient({ endpoint: table.endpoint, region: 'us-east-1', credentials }), table.tableName, 30, (e) => errors.push(e));
    const payload = Buffer.from(JSON.stringify({ events: [{ id: 'e1', data: 'x'.repeat(5000) }] }));

    // Act
    const written = await log.record(
      { provider: 'fastspring', deliveryId: 'dlv-1', receivedAt: new Date('2026-02-03T04:05:06Z'), route: 'POST /webhooks/fastspring', payload, contentType: 'application/json', events: [event(1)] },
      [{ state: { provider: 'fastspring', scope: 'order-1' }, licenses: [{ licenseId: 'lic-1', key: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE' }] }],
    );

    // Assess
    expect(errors).toEqual([]);
    expect(written).toBe(true);
    const { Item } = await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: 'DLV#fastspring#dlv-1' }, sk: { S: 'DLV' } } }));
    expect(gunzipSync(Item!.payload!.B!).equals(payload)).toBe(true);
    expect(Item!.route!.S).toBe('POST /webhooks/fastspring');
    const lookup = await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: 'LIC#lic-1' }, sk: { S: 'LIC' } } }));
    expect(lookup.Item?.scope?.S).toBe('order-1');
  });

  it('writes more than 25 items in several calls', async () => {
    // Prepare
    const client = dynamodbClient({ endpoint: table.endpoint, region: 'us-east-1', credentials });
    const requests = Array.from({ length: 30 }, (_, i) => ({ PutRequest: { Item: { pk: { S: `MANY#${i}` }, sk: { S: 'X' }, bytes: { B: Buffer.from([i, 255, 0]) } } } }));

    // Act
    await batchWriteItems(client, table.tableName, requests);

    // Assess
    const { Item } = await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: 'MANY#29' }, sk: { S: 'X' } } }));
    expect(Buffer.from(Item!.bytes!.B!)).toEqual(Buffer.from([29, 255, 0]));
  });

  it('fails with the AWS error code for a table that does not exist, without retrying', async () => {
    // Prepare
    const client = dynamodbClient({ endpoint: table.endpoint, region: 'us-east-1', credentials });

    // Act
    const error = (await batchWriteItems(client, 'no-such-table', [{ PutRequest: { Item: { pk: { S: 'a' }, sk: { S: 'b' } } } }]).catch((e: unknown) => e)) as AwsCallError;

    // Assess
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error.code).toBe('ResourceNotFoundException');
    expect(error.attempts).toBe(1);
  });
});

describe('light Secrets Manager client', () => {
  let server: Server;
  let endpoint: string;
  const seen: string[] = [];
  const seenIds: string[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    // Answers GetSecretValue only when the SigV4 signature is what the AWS SDK computes for the request.
    server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const given = String(req.headers.authorization ?? '');
      const date = String(req.headers['x-amz-date']);
      const signedHeaders = /SignedHeaders=([^,]+)/.exec(given)?.[1]?.split(';') ?? [];
      const headers: Record<string, string> = {};
      for (const name of signedHeaders) headers[name] = String(req.headers[name]);
      const signer = new SignatureV4({
        service: 'secretsmanager',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', sessionToken: 'test-token' },
        sha256: NodeSha256,
        applyChecksum: false,
      });
      const expected = await signer.sign(
        { method: req.method!, protocol: 'http:', hostname: '127.0.0.1', path: req.url!, query: {}, headers, body },
        { signingDate: new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`) },
      );
      seen.push(String(req.headers['x-amz-target']));
      if (expected.headers.authorization !== given) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InvalidSignatureException', message: 'signature mismatch' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      const secretId = (JSON.parse(body) as { SecretId: string }).SecretId;
      seenIds.push(secretId);
      // The provider's own secret (after the split) and the license secret (which, on a stack
      // deployed before the split, still holds an old provider value).
      const values = secretId.endsWith(':keysmith-fastspring')
        ? { KEYSMITH_FASTSPRING_SECRET: 'from-the-provider-secret' }
        : { KEYSMITH_FASTSPRING_SECRET: 'from-secrets-manager', KEYSMITH_LICENSE_SECRET: 'license-secret', KEYSMITH_HOTTOK: 42 };
      res.end(JSON.stringify({ Name: 'keysmith', SecretString: JSON.stringify(values) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    process.env = saved;
    forgetSecrets();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('loads the secret through loadSecrets with a signature the SDK signer agrees with', async () => {
    // Prepare: what Lambda sets, plus the endpoint override.
    Object.assign(process.env, {
      KEYSMITH_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:keysmith',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_SESSION_TOKEN: 'test-token',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    });
    forgetSecrets();

    // Act
    const secrets = await loadSecrets();
    const again = await loadSecrets();

    // Assess: fetched once, cached; non-string values are ignored.
    expect(secrets.get('KEYSMITH_FASTSPRING_SECRET')).toBe('from-secrets-manager');
    expect(again).toBe(secrets);
    expect(seen).toEqual(['secretsmanager.GetSecretValue']);
  });

  it('prefetches during init and shares one read between concurrent callers', async () => {
    // Prepare: the environment of the previous test, an empty cache.
    forgetSecrets();
    seen.length = 0;

    // Act: Lambda init starts the read; the first requests arrive before it finished.
    prefetchSecrets();
    const [a, b] = await Promise.all([loadSecrets(), loadSecrets()]);
    const later = await loadSecrets();

    // Assess
    expect(seen).toEqual(['secretsmanager.GetSecretValue']);
    expect(a).toBe(b);
    expect(later).toBe(a);
    expect(a.get('KEYSMITH_FASTSPRING_SECRET')).toBe('from-secrets-manager');
  });

  it("reads the license secret and the provider's own secret, the provider's values winning", async () => {
    // Prepare: what an ingress Lambda gets since the secrets were split.
    forgetSecrets();
    seen.length = 0;
    seenIds.length = 0;
    process.env.KEYSMITH_PROVIDER_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:keysmith-fastspring';
    try {
      // Act
      const secrets = await loadSecrets();
      // Assess: both read (signed), merged; the stale copy in the license secret loses.
      expect(seenIds.sort()).toEqual([process.env.KEYSMITH_SECRET_ARN, process.env.KEYSMITH_PROVIDER_SECRET_ARN].sort());
      expect(secrets.get('KEYSMITH_FASTSPRING_SECRET')).toBe('from-the-provider-secret');
      expect(secrets.get('KEYSMITH_LICENSE_SECRET')).toBe('license-secret');
    } finally {
      delete process.env.KEYSMITH_PROVIDER_SECRET_ARN;
      forgetSecrets();
    }
  });

  it('does not prefetch outside AWS (secrets from the environment)', async () => {
    // Prepare
    forgetSecrets();
    seen.length = 0;
    delete process.env.KEYSMITH_SECRET_ARN;

    // Act
    prefetchSecrets();
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assess
    expect(seen).toEqual([]);
  });
});
