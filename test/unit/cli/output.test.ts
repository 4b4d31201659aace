import { createProgress } from '../../../lib/cli/output';

/** The progress helper: a redrawn bar on a terminal, sparse lines anywhere else (CI logs). */

function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return Object.assign({ isTTY, write: (chunk: string) => chunks.push(chunk) > 0 }, { text: () => chunks.join('') }) as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('createProgress', () => {
  afterEach(() => jest.useRealTimers());

  it('redraws one line with a bar on a terminal and ends it with a newline', () => {
    // Prepare
    const tty = stream(true);

    // Act
    const progress = createProgress(tty, 'redriving', 4);
    progress.tick();
    progress.update(2);
    progress.done('redriving: 4/4 moved');

    // Assess
    const text = tty.text();
    expect(text).toContain('\r\x1b[2Kredriving: [############............] 2/4 (50%');
    expect(text.endsWith('\r\x1b[2Kredriving: 4/4 moved\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
  });

  it('prints at most a line every two seconds off a terminal, and always the closing line', () => {
    jest.useFakeTimers({ now: 0 });
    const pipe = stream(false);
    const progress = createProgress(pipe, 'reading', 100);
    for (let i = 0; i < 50; i++) progress.tick();
    expect(pipe.text()).toBe('');
    jest.setSystemTime(2500);
    progress.tick();
    expect(pipe.text()).toBe('reading: 51/100 (51%, 2.5 s)\n');
    progress.done();
    progress.done();
    expect(pipe.text().split('\n').filter(Boolean)).toEqual(['reading: 51/100 (51%, 2.5 s)', 'reading: 51/100 (51%, 2.5 s)']);
  });

  it('counts without a total', () => {
    const pipe = stream(false);
    const progress = createProgress(pipe, 'scanning');
    progress.tick(3);
    progress.done();
    expect(pipe.text()).toMatch(/^scanning: 3 \(\d+\.\d s\)\n$/);
  });
});
