import { createOutput, safeJson, sanitize, table } from '../../../lib/cli/output';

/**
 * Customer names, emails, reasons and provider answers reach the operator's terminal. Whatever
 * they contain, the CLI's human output must not let them drive it: no clipboard writes (OSC 52),
 * screen clears, cursor moves, disguised hyperlinks (OSC 8), 8-bit C1 controls or bidi overrides.
 */

const ESC = '\u001b';
const attacks: [string, string, string][] = [
  ['OSC 52 clipboard write', `Eve${ESC}]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007 Smith`, 'Eve Smith'],
  ['OSC 52 ended by ST', `Eve${ESC}]52;c;Zm9v${ESC}\\ Smith`, 'Eve Smith'],
  ['screen clear and cursor home', `${ESC}[2J${ESC}[HEve`, 'Eve'],
  ['OSC 8 disguised link', `${ESC}]8;;https://evil.example/${ESC}\\https://shop.example/${ESC}]8;;${ESC}\\`, 'https://shop.example/'],
  ['colour and title', `${ESC}[31mred${ESC}[0m${ESC}]0;pwned\u0007`, 'red'],
  ['8-bit CSI and OSC', `a\u009b2Jb\u009d52;c;Zm9v\u009cc`, 'abc'],
  ['bidi override (Trojan Source)', 'invoice\u202Egpj.exe\u202C and \u2066x\u2069', 'invoicegpj.exe and x'],
  ['carriage return overwrite, backspace, bell, NUL, DEL', 'paid\rREFUNDED\b\u0007\u0000\u007f', 'paidREFUNDED'],
  ['a lone ESC at the end', `Eve${ESC}`, 'Eve'],
];

describe('terminal sanitizing', () => {
  it.each(attacks)('strips %s', (_what, input, shown) => {
    expect(sanitize(input)).toBe(shown);
  });

  it('keeps ordinary text, newlines, tabs and every script', () => {
    const text = 'Zoë Ångström — 山田太郎 — محمد\n\tkey ABCDE';
    expect(sanitize(text)).toBe(text);
  });

  it('table cells are one line: a newline in a customer value cannot forge a row', () => {
    const rendered = table([
      ['NAME', 'STATUS'],
      ['Eve\nlic_fake  active', `ok${ESC}[2J`],
    ]);
    expect(rendered.split('\n')).toHaveLength(2);
    expect(rendered).not.toContain(ESC);
  });

  it('every human result and note goes through it; JSON escapes what JSON.stringify leaves raw', () => {
    // Prepare
    const written: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
    const notes: string[] = [];
    const stderr = { write: (chunk: string) => notes.push(chunk) > 0 } as unknown as NodeJS.WriteStream;
    const name = `Eve${ESC}]52;c;Zm9v\u0007\u009b2J\u202E`;
    try {
      // Act
      createOutput(false, stderr).result({ name }, () => `customer ${name}`);
      createOutput(false, stderr).note(`note about ${name}`);
      createOutput(true, stderr).result({ name }, () => 'unused');
    } finally {
      stdout.mockRestore();
    }

    // Assess
    expect(written[0]).toBe('customer Eve\n');
    expect(notes[0]).toBe('note about Eve\n');
    expect(written[1]).not.toMatch(/[\u001b\u009b\u202e]/);
    // Still the same JSON value.
    expect(JSON.parse(written[1]!)).toEqual({ name });
    expect(safeJson('\u0085\u2028')).toBe('"\\u0085\\u2028"');
  });
});
