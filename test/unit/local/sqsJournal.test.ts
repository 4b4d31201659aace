import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqsJournal } from '../../../lib/local/sqsJournal';

/** The journal's reading side: sends minus deletes, per queue, and a crash-cut last line ignored. */
describe('SQS journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps what was sent and not deleted, in order, and skips a line cut short by a crash', () => {
    // Prepare
    const file = join(dir, 'sqs-journal.jsonl');
    const send = (queue: string, id: string) => JSON.stringify({ op: 'send', queue, id, message: { MessageBody: `body-${id}`, MessageGroupId: 'g' } });
    writeFileSync(
      file,
      [
        send('q.fifo', 'a'),
        send('q.fifo', 'b'),
        JSON.stringify({ op: 'delete', queue: 'q.fifo', id: 'a' }),
        send('dlq.fifo', 'a'),
        send('q.fifo', 'c'),
        '{"op":"send","queue":"q.fifo","id":"d","mess',
      ].join('\n'),
    );

    // Act
    const pending = new SqsJournal(file).pending();

    // Assess: `a` was deleted from q but is in the DLQ (same id, other queue); `d` never finished.
    expect(pending.get('q.fifo')?.map((m) => m.id)).toEqual(['b', 'c']);
    expect(pending.get('dlq.fifo')?.map((m) => m.message.MessageBody)).toEqual(['body-a']);
  });

  it('has nothing pending without a file', () => {
    expect(new SqsJournal(join(dir, 'none.jsonl')).pending().size).toBe(0);
  });
});
