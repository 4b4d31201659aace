import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type Message, SQSClient } from '@aws-sdk/client-sqs';
import startSesServer from 'aws-ses-v2-local';
import dynalite from 'dynalite';
import { createRequestHandler } from 'local-aws-sqs';
import { LOCAL, TABLE } from '../../functions/settings';
import { type QueueOverrides, queueArn, queueDefinitions, tableDefinition } from './definitions';
import { SqsJournal } from './sqsJournal';

/**
 * The AWS-API emulators of the local stack, in-process on loopback with ephemeral ports:
 * local-aws-sqs (SQS), dynalite (DynamoDB) and aws-ses-v2-local (SES v1 + v2).
 * Everything is created from `definitions.ts`, i.e. from `functions/settings.ts`.
 *
 * With a `dataDir` the data outlives the process: dynalite keeps the table in LevelDB under
 * `<dataDir>/dynamodb`, and the queues' messages are journaled to `<dataDir>/sqs-journal.jsonl`
 * and put back on start (sqsJournal.ts). Without one everything is in memory (the tests).
 * Captured emails (the SES emulator) are always in memory.
 */

export interface EmulatorOptions {
  queueOverrides?: QueueOverrides;
  /** Keep the table and the queued messages here across restarts. @default in memory */
  dataDir?: string;
}

export const LOOPBACK = '127.0.0.1';

/** Static dummy credentials: the emulators only check that a request is signed at all. */
export const DUMMY_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface EmulatorEndpoints {
  sqs: string;
  dynamodb: string;
  ses: string;
}

export interface Emulators {
  endpoints: EmulatorEndpoints;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  tableName: string;
  /** Messages put back from the journal at start (0 without a dataDir). */
  restoredMessages: number;
  /**
   * Moves a received message of the event queue to the DLQ the way SQS redrive does: same
   * message id, body, attributes, group and deduplication id, plus `DeadLetterQueueSourceArn` so
   * `StartMessageMoveTask` can send it back. The caller deletes it from the source queue.
   */
  moveToDeadLetterQueue(message: Message): void;
  /** Closes every server and open connection. */
  stop(): Promise<void>;
}

type SqsService = ReturnType<typeof createRequestHandler>['service'];
type SqsQueue = SqsService['Queues'][number];

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const servers: Server[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map(closeServer));
  };
  try {
    // SQS: the package's request handler behind our own server (what its `createSqsServer` does),
    // so we keep the service object for the redrive below.
    const sqs = createRequestHandler({
      port: 0,
      hostname: LOOPBACK,
      region: LOCAL.region,
      accountId: LOCAL.accountId,
      emulateQueueCreationLifecycle: false,
    });
    const sqsServer = createServer(sqs.requestHandler);
    servers.push(sqsServer);
    // Queue URLs embed the port; the package sets it the same way after listening.
    sqs.service.PORT = await listen(sqsServer, 0);

    if (options.dataDir) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dataDir ? { path: join(options.dataDir, 'dynamodb') } : {}) });
    servers.push(dynamoServer);
    const dynamoPort = await listen(dynamoServer, 0);

    // aws-ses-v2-local listens by itself; port 0 works because it passes the port to express.
    const sesServer = await startSesServer({ host: LOOPBACK, port: 0 });
    servers.push(sesServer);
    const sesPort = (sesServer.address() as AddressInfo).port;

    const endpoints: EmulatorEndpoints = {
      sqs: `http://${LOOPBACK}:${sqs.service.PORT}`,
      dynamodb: `http://${LOOPBACK}:${dynamoPort}`,
      ses: `http://${LOOPBACK}:${sesPort}`,
    };
    const { queueUrl, dlqUrl } = await createQueues(endpoints.sqs, options.queueOverrides);
    await createTable(endpoints.dynamodb);

    const queue = findQueue(sqs.service, queueUrl);
    const dlq = findQueue(sqs.service, dlqUrl);
    handRedriveToPoller(queue);
    // The DLQ first: a restored event's dead-lettered sibling is where it was.
    const restoredMessages = options.dataDir ? new SqsJournal(join(options.dataDir, 'sqs-journal.jsonl')).attach([dlq, queue]) : 0;

    return {
      endpoints,
      queueUrl,
      queueArn: queueArn(queue.QueueName),
      dlqUrl,
      dlqArn: queueArn(dlq.QueueName),
      tableName: TABLE.name,
      restoredMessages,
      moveToDeadLetterQueue: (message) => moveToDeadLetterQueue(dlq, queueArn(queue.QueueName), message),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** An SDK client configuration aimed at one emulator, independent of the process environment. */
export function localClientConfig(endpoint: string): { endpoint: string; region: string; credentials: typeof DUMMY_CREDENTIALS } {
  return { endpoint, region: LOCAL.region, credentials: DUMMY_CREDENTIALS };
}

async function createQueues(endpoint: string, overrides?: QueueOverrides): Promise<{ queueUrl: string; dlqUrl: string }> {
  const client = new SQSClient(localClientConfig(endpoint));
  try {
    const { dlq, queue } = queueDefinitions(overrides);
    const dlqUrl = (await client.send(new CreateQueueCommand(dlq))).QueueUrl!;
    const queueUrl = (await client.send(new CreateQueueCommand(queue))).QueueUrl!;
    // Read back what the emulator accepted: a silently dropped attribute would fail here.
    const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    const actual: Record<string, string | undefined> = Attributes;
    for (const [name, value] of Object.entries(queue.Attributes)) {
      const same = name === 'RedrivePolicy' ? JSON.stringify(JSON.parse(actual[name] ?? '{}')) === JSON.stringify(JSON.parse(value)) : actual[name] === value;
      if (!same) throw new Error(`local SQS did not keep ${name}=${value} (has ${actual[name]})`);
    }
    return { queueUrl, dlqUrl };
  } finally {
    client.destroy();
  }
}

async function createTable(endpoint: string): Promise<void> {
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    // dynalite has no UpdateTimeToLive: TABLE.ttlAttribute is not applied and items never expire
    // locally. Nothing in keysmith depends on expiry for correctness.
    await client.send(new CreateTableCommand(tableDefinition()));
  } catch (error) {
    // A persisted table from the last run: keep it (and its data) if it has today's shape.
    if (!(error instanceof ResourceInUseException)) throw error;
    await checkTableShape(client);
  } finally {
    client.destroy();
  }
}

/** A kept table made by an older keysmith (other keys or indexes) cannot serve this one. */
async function checkTableShape(client: DynamoDBClient): Promise<void> {
  const wanted = tableDefinition();
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: wanted.TableName }));
  const shape = (keys: { AttributeName?: string; KeyType?: string }[] | undefined): string => (keys ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const indexes = (list: { IndexName?: string; KeySchema?: { AttributeName?: string; KeyType?: string }[] }[] | undefined): string =>
    (list ?? [])
      .map((i) => `${i.IndexName}(${shape(i.KeySchema)})`)
      .sort()
      .join(' ');
  if (shape(table?.KeySchema) !== shape(wanted.KeySchema) || indexes(table?.GlobalSecondaryIndexes) !== indexes(wanted.GlobalSecondaryIndexes)) {
    throw new Error('the local data kept in .keysmith/data was made by another version of keysmith (its table has other keys or indexes): start with `npm start -- --reset` to begin again empty');
  }
}

function findQueue(service: SqsService, url: string): SqsQueue {
  const found = service.Queues.find((queue) => queue.QueueUrl === url);
  if (!found) throw new Error(`local SQS has no queue ${url}`);
  return found;
}

/**
 * local-aws-sqs dead-letters a message when its visibility expires with ApproximateReceiveCount
 * ≥ maxReceiveCount — but it also counts every ChangeMessageVisibility call as a receive. The
 * worker pushes a failed message's visibility out on every failure (QUEUE.retryBackoff), so the
 * emulator would dead-letter it after about half of its receive budget. The poller therefore
 * counts real deliveries and does the redrive itself (see poller.ts). Here the emulator's own
 * check is switched off (`count >= Infinity` never holds) while GetQueueAttributes still reports
 * the configured policy. A later SetQueueAttributes RedrivePolicy turns the emulator's check on
 * again.
 */
function handRedriveToPoller(queue: SqsQueue): void {
  const configured = queue.RedrivePolicy;
  if (!configured) throw new Error(`local SQS queue ${queue.QueueName} has no RedrivePolicy`);
  const reported = { deadLetterTargetArn: configured.deadLetterTargetArn, maxReceiveCount: configured.maxReceiveCount };
  queue.RedrivePolicy = Object.assign({ deadLetterTargetArn: configured.deadLetterTargetArn, maxReceiveCount: Number.POSITIVE_INFINITY }, { toJSON: () => reported });
}

function moveToDeadLetterQueue(dlq: SqsQueue, sourceArn: string, message: Message): void {
  const attributes = message.Attributes ?? {};
  const messageAttributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      DataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      // The emulator stores attributes as they arrive over the JSON protocol: binary as base64.
      ...(value.BinaryValue !== undefined ? { BinaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
    };
  }
  const systemAttributes: Record<string, { DataType: string; StringValue: string }> = {
    DeadLetterQueueSourceArn: { DataType: 'String', StringValue: sourceArn },
  };
  if (attributes.AWSTraceHeader) systemAttributes.AWSTraceHeader = { DataType: 'String', StringValue: attributes.AWSTraceHeader };
  dlq.setRecord(
    {
      MessageBody: message.Body ?? '',
      ...(Object.keys(messageAttributes).length > 0 ? { MessageAttributes: messageAttributes } : {}),
      MessageSystemAttributes: systemAttributes,
      MessageGroupId: attributes.MessageGroupId,
      MessageDeduplicationId: attributes.MessageDeduplicationId,
    },
    message.MessageId,
  );
}

export function listen(server: Server, port: number, host: string = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes a server now: idle keep-alive sockets (the SDK's) would otherwise hold it open. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
