import { editDistance, parseCommandArgs, suggest } from '../../../lib/cli/args';
import type { CliError } from '../../../lib/cli/output';

describe('option parsing for people', () => {
  it('suggests the close candidate for typos, swaps and prefixes, and nothing for unrelated words', () => {
    expect(suggest('ordr', ['order', 'email'])).toBe('order');
    expect(suggest('emial', ['order', 'email'])).toBe('email');
    expect(suggest('lic', ['licenses', 'keys'])).toBe('licenses');
    expect(suggest('colour', ['order', 'email', 'key'])).toBeUndefined();
    expect(editDistance('ab', 'ba')).toBe(1);
  });

  it('returns typed values and refuses what the command does not take with exit 2', () => {
    const specs = { order: { type: 'string' }, json: { type: 'boolean' } } as const;
    expect(parseCommandArgs(['x', '--order', 'o1', '--json'], specs, 'licenses')).toEqual({ values: { order: 'o1', json: true }, positionals: ['x'] });
    const refused = (argv: string[]): CliError => {
      try {
        parseCommandArgs(argv, specs, 'licenses');
      } catch (error) {
        return error as CliError;
      }
      throw new Error('accepted');
    };
    expect(refused(['--oder', 'x'])).toMatchObject({ exitCode: 2, message: expect.stringContaining('did you mean --order?') });
    expect(refused(['--order'])).toMatchObject({ exitCode: 2, message: 'licenses: --order needs a value (--order VALUE)' });
    expect(refused(['--json=1'])).toMatchObject({ exitCode: 2, message: 'licenses: --json is a flag and takes no value' });
    expect(refused(['--order', '--json']).exitCode).toBe(2);
  });
});
