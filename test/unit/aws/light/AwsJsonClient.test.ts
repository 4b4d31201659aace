import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsJsonClient, toError } from '../../../../functions/aws/light/AwsJsonClient';
import { credentialsFromEnv, endpointFor, regionFromEnv } from '../../../../functions/aws/light/config';
import { batchWriteItems, dynamodbClient, toWireItem } from '../../../../functions/aws/light/dynamodb';
import { AwsCallError, AwsConfigError } from '../../../../functions/aws/light/errors';
import { getSecretString, secretsManagerClient } from '../../../../functions/aws/light/secretsManager';
import { sendMessageBatch, sqsClient } from '../../../../functions/aws/light/sqs';
import type { HttpRequest, HttpResponse, Transport } from '../../../../functions/aws/light/transport';

/** The light AWS client: request shape, error reading, bounded retries, timeouts, wire formats. */

const credentials = () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({ status, headers, body: Buffer.from(JSON.stringify(body)) });

/** A transport that answers from a script and records what it was asked. */
function scripted(...answers: Array<HttpResponse | Error>): Transport & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  const transport: Transport = async (request) => {
    requests.push(request);
    const next = answers.shift();
    if (!next) throw new Error('no more answers scripted');
    if (next instanceof Error) throw next;
    return next;
  };
  return Object.assign(transport, { requests });
}

const noSleep = { sleep: async () => undefined, random: () => 0.5 };

describe('AwsJsonClient', () => {
  it('posts a signed JSON-protocol request and parses the answer', async () => {
    // Prepare
    const transport = scripted(json(200, { SecretString: '{"a":"b"}' }));
    const client = secretsManagerClient({ region: 'eu-west-1', credentials, transport });

    // Act
    const value = await getSecretString(client, 'arn:secret');

    // Assess
    expect(value).toBe('{"a":"b"}');
    const [request] = transport.requests;
    expect(request!.url.href).toBe('https://secretsmanager.eu-west-1.amazonaws.com/');
    expect(request!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(request!.headers['x-amz-security-token']).toBe('token');
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(request!.body)).toEqual({ SecretId: 'arn:secret' });
  });

  it('retries throttling and 5xx with growing backoff, then succeeds', async () => {
    // Prepare
    const waits: number[] = [];
    const transport = scripted(
      json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' }),
      json(503, { message: 'unavailable' }),
      json(200, { UnprocessedItems: {} }),
    );
    const client = dynamodbClient({ region: 'us-east-1', credentials, transport, maxAttempts: 3, sleep: async (ms) => void waits.push(ms), random: () => 1 });

    // Act
    await batchWriteItems(client, 't', [{ PutRequest: { Item: { pk: { S: 'a' } } } }]);

    // Assess: throttling waits 4× the base (200 ms), the 5xx 2 × 50 ms.
    expect(transport.requests).toHaveLength(3);
    expect(waits).toEqual([200, 100]);
  });

  it('retries network errors and gives up after maxAttempts with the last error', async () => {
    // Prepare
    const network = () => new AwsCallError('NetworkError', 'host: ECONNRESET', 0, true);
    const transport = scripted(network(), network(), network());
    const client = sqsClient({ region: 'us-east-1', credentials, transport, maxAttempts: 3, ...noSleep });

    // Act
    const error = await client.call('SendMessageBatch', {}).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ code: 'NetworkError', attempts: 3, retryable: true });
    expect((error as Error).message).toContain('after 3 attempts');
  });

  it('does not retry a client error, and reports its AWS code and message', async () => {
    // Prepare
    const transport = scripted(
      json(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' }, { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' }),
    );
    const client = sqsClient({ region: 'us-east-1', credentials, transport, ...noSleep });

    // Act
    const error = (await client.call('SendMessageBatch', {}).catch((e: unknown) => e)) as AwsCallError;

    // Assess
    expect(transport.requests).toHaveLength(1);
    expect(error.name).toBe('QueueDoesNotExist');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('SendMessageBatch failed: QueueDoesNotExist (AWS.SimpleQueueService.NonExistentQueue): The specified queue does not exist. [HTTP 400]');
  });

  it('reads the code from x-amzn-errortype and treats an unparseable 502 as transient', () => {
    // Act
    const typed = toError('Op', 400, { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/' }, Buffer.from('{}'));
    const gateway = toError('Op', 502, {}, Buffer.from('<html>Bad Gateway</html>'));

    // Assess
    expect(typed).toMatchObject({ code: 'ThrottlingException', retryable: true });
    expect(gateway).toMatchObject({ code: 'Http502', retryable: true, status: 502 });
  });

  it('times out an endpoint that never answers, per attempt', async () => {
    // Prepare: a server that accepts and never responds.
    const server: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = sqsClient({ region: 'us-east-1', credentials, endpoint, timeoutMs: 100, maxAttempts: 2, ...noSleep });

    // Act
    const started = Date.now();
    const error = await client.call('SendMessageBatch', {}).catch((e: unknown) => e);
    server.closeAllConnections();
    server.close();

    // Assess
    expect(error).toMatchObject({ code: 'TimeoutError', attempts: 2 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reuses one keep-alive connection for consecutive calls', async () => {
    // Prepare
    const sockets = new Set<unknown>();
    const server: Server = createServer((req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = dynamodbClient({ region: 'us-east-1', credentials, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });

    // Act
    for (let i = 0; i < 5; i++) await client.call('DescribeTable', { TableName: 't' });
    server.closeAllConnections();
    server.close();

    // Assess
    expect(sockets.size).toBe(1);
  });
});

describe('light DynamoDB and SQS calls', () => {
  it('sends binary attribute values as base64, nested too', () => {
    // Act
    const wire = toWireItem({
      payload: { B: Buffer.from('hello') },
      set: { BS: [Buffer.from('a'), 'Yg=='] },
      doc: { M: { inner: { B: new Uint8Array([1, 2]) } } },
      list: { L: [{ S: 'x' }, { B: Buffer.from('z') }] },
      n: { N: '1' },
    });

    // Assess
    expect(wire).toEqual({ payload: { B: 'aGVsbG8=' }, set: { BS: ['YQ==', 'Yg=='] }, doc: { M: { inner: { B: 'AQI=' } } }, list: { L: [{ S: 'x' }, { B: 'eg==' }] }, n: { N: '1' } });
  });

  it('writes again what DynamoDB leaves unprocessed, and gives up after 8 rounds', async () => {
    // Prepare
    const unprocessed = { UnprocessedItems: { t: [{ PutRequest: { Item: { pk: { S: 'a' } } } }] } };
    const transport = scripted(...Array.from({ length: 9 }, () => json(200, unprocessed)));
    const client = dynamodbClient({ region: 'us-east-1', credentials, transport, ...noSleep });

    // Act
    const error = await batchWriteItems(client, 't', [{ PutRequest: { Item: { pk: { S: 'a' } } } }], async () => undefined).catch((e: unknown) => e);

    // Assess
    expect(transport.requests).toHaveLength(9);
    expect((error as Error).message).toBe('DynamoDB left 1 writes unprocessed');
  });

  it('splits batch writes into chunks of 25', async () => {
    // Prepare
    const transport = scripted(json(200, {}), json(200, {}));
    const client = dynamodbClient({ region: 'us-east-1', credentials, transport });
    const requests = Array.from({ length: 30 }, (_, i) => ({ PutRequest: { Item: { pk: { S: String(i) } } } }));

    // Act
    await batchWriteItems(client, 't', requests);

    // Assess
    expect(transport.requests.map((r) => (JSON.parse(r.body) as { RequestItems: { t: unknown[] } }).RequestItems.t.length)).toEqual([25, 5]);
  });

  it('accepts only the SQS entries whose MD5 matches what was sent', async () => {
    // Prepare
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const transport = scripted(
      json(200, {
        Successful: [
          { Id: '0', MessageId: 'm0', MD5OfMessageBody: md5('first') },
          { Id: '1', MessageId: 'm1', MD5OfMessageBody: md5('tampered') },
        ],
        Failed: [{ Id: '2', Code: 'InternalError', SenderFault: false }],
      }),
    );
    const client = sqsClient({ region: 'us-east-1', credentials, transport });

    // Act
    const accepted = await sendMessageBatch(client, 'https://sqs.us-east-1.amazonaws.com/1/q.fifo', [
      { Id: '0', MessageBody: 'first' },
      { Id: '1', MessageBody: 'second' },
      { Id: '2', MessageBody: 'third' },
    ]);

    // Assess
    expect([...accepted]).toEqual(['0']);
  });
});

describe('light client configuration', () => {
  it('takes credentials and region from the Lambda environment, and says what is missing', () => {
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' })).toEqual({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' });
    expect(() => credentialsFromEnv({})).toThrow(AwsConfigError);
    expect(regionFromEnv({ AWS_REGION: 'eu-west-1' })).toBe('eu-west-1');
    expect(() => regionFromEnv({})).toThrow('AWS_REGION');
  });

  it('resolves endpoints: service override, global override, partitions, FIPS, dual-stack (all regions: endpoints.test.ts)', () => {
    expect(endpointFor('sqs', 'us-east-1', { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324/', AWS_ENDPOINT_URL: 'http://other' })).toBe('http://127.0.0.1:9324');
    expect(endpointFor('secretsmanager', 'us-east-1', { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://sm' })).toBe('http://sm');
    expect(endpointFor('dynamodb', 'us-east-1', { AWS_ENDPOINT_URL: 'http://all' })).toBe('http://all');
    expect(endpointFor('dynamodb', 'eu-central-1', {})).toBe('https://dynamodb.eu-central-1.amazonaws.com');
    expect(endpointFor('sqs', 'cn-north-1', {})).toBe('https://sqs.cn-north-1.amazonaws.com.cn');
    expect(endpointFor('secretsmanager', 'us-gov-west-1', { AWS_USE_FIPS_ENDPOINT: 'true' })).toBe('https://secretsmanager-fips.us-gov-west-1.amazonaws.com');
    expect(endpointFor('sqs', 'us-east-1', { AWS_USE_DUALSTACK_ENDPOINT: 'true' })).toBe('https://sqs.us-east-1.api.aws');
    expect(endpointFor('dynamodb', 'eusc-de-east-1', {})).toBe('https://dynamodb.eusc-de-east-1.amazonaws.eu');
  });

  it('fails a call without credentials with a configuration error, without retrying', async () => {
    // Prepare
    const transport = scripted();
    const client = new AwsJsonClient({ service: 'sqs', targetPrefix: 'AmazonSQS', jsonVersion: '1.0', region: 'us-east-1', transport, credentials: () => credentialsFromEnv({}) });

    // Act / Assess
    await expect(client.call('SendMessageBatch', {})).rejects.toThrow(AwsConfigError);
    expect(transport.requests).toHaveLength(0);
  });
});
