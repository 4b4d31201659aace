import { countDepth } from '../../../lib/queueDepth';

describe('countDepth', () => {
  it('counts a message the emulator still marks delayed, which is in neither of the other two counts', () => {
    // The emulator, a moment after SendMessage: the message is only in Delayed.
    expect(countDepth({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '1' }, 'local')).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 1,
      total: 1,
    });
  });

  it('counts an in-flight message once on the emulator, which lists it in both of the first two counts', () => {
    expect(countDepth({ ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '2', ApproximateNumberOfMessagesDelayed: '0' }, 'local')).toEqual({
      visible: 1,
      inFlight: 2,
      delayed: 0,
      total: 3,
    });
  });

  it('adds the three counts in SQS, where they are disjoint', () => {
    expect(countDepth({ ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '2', ApproximateNumberOfMessagesDelayed: '4' }, 'aws')).toEqual({
      visible: 3,
      inFlight: 2,
      delayed: 4,
      total: 9,
    });
  });

  it('reads missing or malformed counts as zero', () => {
    expect(countDepth({}, 'aws').total).toBe(0);
    expect(countDepth({ ApproximateNumberOfMessages: 'x', ApproximateNumberOfMessagesDelayed: '-1' }, 'local').total).toBe(0);
  });
});
