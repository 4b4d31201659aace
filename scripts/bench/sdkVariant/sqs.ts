import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SqsBatchEntry } from '../../../functions/aws/light/sqs';

/**
 * Benchmark-only stand-in for functions/aws/light/sqs.ts with the same exports, backed by
 * @aws-sdk/client-sqs: bundling an ingress with it measures what the SDK would cost the same code.
 */

export type { SqsBatchEntry };

export function sqsClient(options: { endpoint?: string } = {}): SQSClient {
  return new SQSClient(options.endpoint ? { endpoint: options.endpoint } : {});
}

export async function sendMessageBatch(client: SQSClient, queueUrl: string, entries: SqsBatchEntry[]): Promise<Set<string>> {
  const result = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  return new Set((result.Successful ?? []).map((s) => s.Id!));
}
