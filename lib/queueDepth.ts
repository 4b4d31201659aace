import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * How many messages a queue holds, counting the ones SQS leaves out of
 * ApproximateNumberOfMessages: in flight (NotVisible) and not yet deliverable (Delayed).
 *
 * The local emulator differs from SQS in two ways that matter here:
 * - it counts in-flight messages in ApproximateNumberOfMessages as well as in NotVisible;
 * - every new message starts "delayed" until a 0 ms timer runs, so for a moment after a
 *   SendMessage it is in neither of the first two counts, only in Delayed. A drain that read
 *   only those two could pass a message that was just sent (a busy CI machine did).
 */
export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
  /** Every message the queue holds, counted once. */
  total: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string, kind: 'aws' | 'local'): Promise<QueueDepth> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return countDepth(a, kind);
}

export function countDepth(attributes: Record<string, string | undefined>, kind: 'aws' | 'local'): QueueDepth {
  const count = (name: string): number => {
    const n = Number(attributes[name] ?? 0);
    return Number.isFinite(n) && n > 0 ? n : 0;
  };
  const listed = count('ApproximateNumberOfMessages');
  const inFlight = count('ApproximateNumberOfMessagesNotVisible');
  const delayed = count('ApproximateNumberOfMessagesDelayed');
  const visible = kind === 'local' ? Math.max(0, listed - inFlight) : listed;
  return { visible, inFlight, delayed, total: visible + inFlight + delayed };
}
