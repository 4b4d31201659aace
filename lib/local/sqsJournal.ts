import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { createRequestHandler } from 'local-aws-sqs';

/**
 * local-aws-sqs keeps its messages in memory: a restart of `npm start` would drop what the
 * ingress had accepted (and answered 2xx for) but the worker had not applied yet. This journal
 * makes the local queues as durable as the ack promises: every message the emulator stores is
 * appended to a JSON-lines file before the emulator answers SendMessage, every delete is appended
 * too, and on start the messages sent but never deleted are put back with their original
 * message id, group and deduplication id. The file is compacted to just those on start.
 *
 * It hooks the emulator's queue objects (`setRecord`, `receive`, `delete`), the calls every path
 * goes through: SendMessage(Batch), the poller's dead-lettering and StartMessageMoveTask.
 * Not kept: visibility and receive counts (a restored message is visible at once, a first
 * delivery again) and messages that expired by retention while the stack was down.
 */

type SqsQueue = ReturnType<typeof createRequestHandler>['service']['Queues'][number];

/** What SendMessage gave the emulator (its JSON-protocol input), less the delay. */
export interface JournalMessage {
  MessageBody: string;
  MessageAttributes?: unknown;
  MessageSystemAttributes?: unknown;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

type Entry = { op: 'send'; queue: string; id: string; message: JournalMessage } | { op: 'delete'; queue: string; id: string };

export class SqsJournal {
  constructor(private readonly file: string) {}

  /** Messages sent and not deleted, per queue name, in the order they were sent. */
  pending(): Map<string, { id: string; message: JournalMessage }[]> {
    const live = new Map<string, { queue: string; id: string; message: JournalMessage }>();
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        let entry: Entry;
        try {
          entry = JSON.parse(line) as Entry;
        } catch {
          // A line cut short by a crash mid-write: its SendMessage was never answered.
          continue;
        }
        const key = `${entry.queue}\n${entry.id}`;
        if (entry.op === 'send') live.set(key, entry);
        else live.delete(key);
      }
    }
    const byQueue = new Map<string, { id: string; message: JournalMessage }[]>();
    for (const { queue, id, message } of live.values()) {
      if (!byQueue.has(queue)) byQueue.set(queue, []);
      byQueue.get(queue)!.push({ id, message });
    }
    return byQueue;
  }

  /**
   * Puts the pending messages back into `queues` (by name), rewrites the file with just them,
   * then journals everything the queues store or delete from now on. Returns how many came back.
   */
  attach(queues: SqsQueue[]): number {
    const pending = this.pending();
    let restored = 0;
    const kept: Entry[] = [];
    for (const queue of queues) {
      for (const { id, message } of pending.get(queue.QueueName) ?? []) {
        queue.setRecord({ ...message }, id);
        kept.push({ op: 'send', queue: queue.QueueName, id, message });
        restored++;
      }
    }
    mkdirSync(dirname(this.file), { recursive: true });
    const partial = `${this.file}.tmp`;
    writeFileSync(partial, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
    renameSync(partial, this.file);
    for (const queue of queues) this.hook(queue);
    return restored;
  }

  private append(entry: Entry): void {
    // Synchronous: the line is in the file before the emulator answers the request.
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  private hook(queue: SqsQueue): void {
    const name = queue.QueueName;
    /** Receipt handle → message id, from what receive handed out. */
    const handles = new Map<string, string>();

    const setRecord = queue.setRecord;
    queue.setRecord = (input: JournalMessage & { DelaySeconds?: unknown }, id?: string) => {
      const stored = setRecord(input, id);
      // A new message comes back as the queue's entry (`visible`); a FIFO duplicate within the
      // deduplication window as a bare record of the message already journaled.
      if (stored && typeof stored === 'object' && 'visible' in stored) {
        const { DelaySeconds: _delay, Id: _batchEntryId, ...message } = input as typeof input & { Id?: unknown };
        this.append({ op: 'send', queue: name, id: (stored as { record: { MessageId: string } }).record.MessageId, message: strip(message) });
      }
      return stored;
    };

    const receive = queue.receive.bind(queue);
    queue.receive = async (options: Parameters<SqsQueue['receive']>[0]) => {
      const records = await receive(options);
      for (const record of records as { ReceiptHandle?: string; MessageId?: string }[]) {
        if (record.ReceiptHandle && record.MessageId) handles.set(record.ReceiptHandle, record.MessageId);
      }
      return records;
    };

    const remove = queue.delete.bind(queue);
    queue.delete = (receiptHandle: string) => {
      const deleted = remove(receiptHandle);
      const id = handles.get(receiptHandle);
      if (id) {
        handles.delete(receiptHandle);
        this.append({ op: 'delete', queue: name, id });
      }
      return deleted;
    };
  }
}

/** The SendMessage input as plain JSON (attributes as the JSON protocol carried them). */
function strip(message: JournalMessage): JournalMessage {
  return JSON.parse(JSON.stringify(message)) as JournalMessage;
}
