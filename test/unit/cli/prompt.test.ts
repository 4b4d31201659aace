import { EventEmitter } from 'node:events';
import { confirm, type PromptInput, readHidden } from '../../../lib/cli/prompt';

/**
 * A fake terminal: records raw-mode switches and everything written, and types keys. The real
 * terminal echoes only in cooked mode, so "raw mode on while reading, and nothing of the value
 * written" is what keeps a pasted secret off the screen.
 */
class FakeTty extends EventEmitter implements PromptInput {
  isTTY = true;
  raw: boolean[] = [];
  paused = true;
  setRawMode(mode: boolean): this {
    this.raw.push(mode);
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  type(text: string): void {
    this.emit('data', Buffer.from(text));
  }
}

const screen = () => {
  const chunks: string[] = [];
  return { write: (text: string) => chunks.push(text), text: () => chunks.join('') };
};

describe('readHidden', () => {
  it('reads a typed value in raw mode without writing it back, and restores the terminal', async () => {
    // Prepare
    const tty = new FakeTty();
    const out = screen();

    // Act
    const value = readHidden(tty, out, 'Value: ');
    tty.type('s3cr');
    tty.type('et-x\u007fvalue\r');

    // Assess
    await expect(value).resolves.toBe('s3cret-value');
    expect(tty.raw).toEqual([true, false]);
    expect(tty.paused).toBe(true);
    expect(out.text()).toBe('Value: \n');
    expect(tty.listenerCount('data')).toBe(0);
  });

  it('takes a pasted PEM whole (Enter inside it does not end it), also in bracketed paste', async () => {
    const tty = new FakeTty();
    const out = screen();
    const value = readHidden(tty, out, '> ');
    tty.type('\u001b[200~-----BEGIN PUBLIC KEY-----\rMIIBIjAN\rQIDAQAB\r-----END PUBLIC KEY-----\u001b[201~');
    tty.type('\r');
    await expect(value).resolves.toBe('-----BEGIN PUBLIC KEY-----\nMIIBIjAN\nQIDAQAB\n-----END PUBLIC KEY-----');
    expect(out.text()).not.toContain('MIIB');
  });

  it('ends at Ctrl-D and cancels at Ctrl-C, leaving raw mode either way', async () => {
    const a = new FakeTty();
    const first = readHidden(a, screen(), '');
    a.type('{"offer":\r"x"\u0004');
    await expect(first).resolves.toBe('{"offer":\n"x"');
    expect(a.raw).toEqual([true, false]);

    const b = new FakeTty();
    const second = readHidden(b, screen(), '');
    b.type('abc\u0003');
    await expect(second).rejects.toThrow('cancelled');
    expect(b.raw).toEqual([true, false]);
  });

  it('reads piped stdin (no terminal) to its end, as before', async () => {
    const pipe = new FakeTty();
    pipe.isTTY = false;
    const value = readHidden(pipe, screen(), 'unused');
    pipe.type('line one\n');
    pipe.type('line two\n');
    pipe.emit('end');
    await expect(value).resolves.toBe('line one\nline two\n');
    expect(pipe.raw).toEqual([]);
  });
});

describe('confirm', () => {
  it('is yes only for y or yes, and undefined without a terminal', async () => {
    for (const [answer, expected] of [
      ['y\n', true],
      ['YES\r\n', true],
      ['\n', false],
      ['no\n', false],
      ['yess\n', false],
    ] as const) {
      const tty = new FakeTty();
      const result = confirm(tty, screen(), 'Send?');
      tty.type(answer);
      await expect(result).resolves.toBe(expected);
    }
    const pipe = new FakeTty();
    pipe.isTTY = false;
    await expect(confirm(pipe, screen(), 'Send?')).resolves.toBeUndefined();
  });
});
