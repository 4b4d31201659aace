import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An AWS endpoint that answers at once, for the cold-start runs: SQS SendMessageBatch /
 * SendMessage / ChangeMessageVisibility (JSON protocol), DynamoDB (JSON), Secrets Manager
 * GetSecretValue (JSON) and SES v1 SendEmail (query protocol, XML). Enough for one ingress,
 * worker or license API invocation to succeed; it keeps no state and counts what it was asked.
 * A DynamoDB Query of a partition in `partitions` answers that partition's items (the license
 * views the worker would have written), any other Query finds nothing.
 */

export interface StubAwsOptions {
  /** Items a Query by partition key finds, by partition key value (`KEY#…`). */
  partitions?: ReadonlyMap<string, readonly Record<string, unknown>[]>;
}

export interface StubAws {
  url: string;
  /** Requests seen, by operation (`AmazonSQS.SendMessageBatch`, `ses.SendEmail`, …). */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startStubAws(secret: Record<string, string>, options: StubAwsOptions = {}): Promise<StubAws> {
  const calls = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const body = await readAll(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    let operation = target;
    let status = 200;
    let type = 'application/x-amz-json-1.0';
    let answer: string;
    try {
      if (target === 'AmazonSQS.SendMessageBatch') {
        const input = JSON.parse(body) as { Entries: { Id: string; MessageBody: string }[] };
        answer = JSON.stringify({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: randomUUID(), MD5OfMessageBody: md5(e.MessageBody), SequenceNumber: '1' })), Failed: [] });
      } else if (target === 'AmazonSQS.SendMessage') {
        const input = JSON.parse(body) as { MessageBody: string };
        answer = JSON.stringify({ MessageId: randomUUID(), MD5OfMessageBody: md5(input.MessageBody), SequenceNumber: '1' });
      } else if (target.startsWith('AmazonSQS.')) {
        answer = '{}';
      } else if (target === 'DynamoDB_20120810.BatchWriteItem') {
        answer = JSON.stringify({ UnprocessedItems: {} });
      } else if (target === 'DynamoDB_20120810.Query') {
        const input = JSON.parse(body) as { ExpressionAttributeValues?: Record<string, { S?: string }> };
        const pk = Object.values(input.ExpressionAttributeValues ?? {}).find((v) => typeof v.S === 'string')?.S ?? '';
        const items = options.partitions?.get(pk) ?? [];
        answer = JSON.stringify({ Items: items, Count: items.length, ScannedCount: items.length });
      } else if (target.startsWith('DynamoDB_20120810.')) {
        // GetItem finds nothing, PutItem/UpdateItem succeed.
        answer = '{}';
      } else if (target === 'secretsmanager.GetSecretValue') {
        type = 'application/x-amz-json-1.1';
        answer = JSON.stringify({
          ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keysmith-AbCdEf',
          Name: 'keysmith',
          SecretString: JSON.stringify(secret),
          VersionId: randomUUID(),
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1.7e9,
        });
      } else if (new URLSearchParams(body).get('Action') === 'SendEmail') {
        operation = 'ses.SendEmail';
        type = 'text/xml';
        answer = `<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendEmailResult><MessageId>${randomUUID()}</MessageId></SendEmailResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SendEmailResponse>`;
      } else {
        operation = `unknown ${req.method} ${req.url}`;
        status = 400;
        type = 'application/json';
        answer = JSON.stringify({ __type: 'UnknownOperationException', message: `stub: ${target || 'no x-amz-target'}` });
      }
    } catch (error) {
      status = 400;
      answer = JSON.stringify({ __type: 'ValidationException', message: (error as Error).message });
    }
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
