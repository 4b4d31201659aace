import { createHash } from 'node:crypto';
import { AwsJsonClient, type AwsJsonClientOptions, type CallOptions } from './AwsJsonClient';

/** SQS over the JSON protocol (what the SDK itself speaks to SQS since 2023). */

export interface SqsBatchEntry {
  Id: string;
  MessageBody: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

interface SendMessageBatchOutput {
  Successful?: { Id: string; MessageId?: string; MD5OfMessageBody?: string }[];
  Failed?: { Id: string; Code?: string; Message?: string; SenderFault?: boolean }[];
}

export function sqsClient(options: Partial<AwsJsonClientOptions> = {}): AwsJsonClient {
  return new AwsJsonClient({ service: 'sqs', targetPrefix: 'AmazonSQS', jsonVersion: '1.0', ...options });
}

/**
 * SendMessageBatch; resolves with the ids SQS accepted. An entry whose MD5 does not match what
 * was sent counts as not accepted (the SDK makes the same check), so its sender retries it.
 */
export async function sendMessageBatch(client: AwsJsonClient, queueUrl: string, entries: SqsBatchEntry[], options: CallOptions = {}): Promise<Set<string>> {
  const output = await client.call<SendMessageBatchOutput>('SendMessageBatch', { QueueUrl: queueUrl, Entries: entries }, options);
  const sent = new Map(entries.map((e) => [e.Id, e.MessageBody]));
  const accepted = new Set<string>();
  for (const ok of output.Successful ?? []) {
    const body = sent.get(ok.Id);
    if (body !== undefined && (!ok.MD5OfMessageBody || ok.MD5OfMessageBody === createHash('md5').update(body).digest('hex'))) accepted.add(ok.Id);
  }
  return accepted;
}
