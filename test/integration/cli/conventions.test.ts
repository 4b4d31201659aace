import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunFile } from '../../../lib/local/runFile';
import { type LocalStack, startLocalStack } from '../../../lib/local/stack';
import { version } from '../../../package.json';
import { buildCli, cli } from './support';

/**
 * CLI conventions: help per command, --version, per-command options with one-line errors and
 * "did you mean", exit 2 for bad arguments; and finding the local stack without PORT.
 */

describe('CLI conventions', () => {
  beforeAll(() => buildCli());

  it('prints help for one command both ways, and --version', async () => {
    const [viaHelp, viaFlag, version_, overview] = await Promise.all([cli(['help', 'licenses']), cli(['licenses', '--help']), cli(['--version']), cli(['--help'])]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toMatch(/keysmith licenses \(--order ID \| --email EMAIL \| --key KEY\)/);
    expect(viaHelp.stdout).toMatch(/Options: --order VALUE, --email VALUE, --key VALUE, --provider VALUE/);
    expect(viaHelp.stdout).not.toMatch(/keysmith send/);
    expect(version_).toMatchObject({ code: 0, stdout: `${version}\n` });
    for (const command of ['send', 'licenses', 'show', 'revoke|suspend|reinstate', 'resend', 'deliveries', 'replay', 'dlq list', 'secrets set', 'doctor', 'emails', 'verify', 'keys generate']) {
      expect(overview.stdout).toContain(`keysmith ${command}`);
    }
  });

  it.each([
    [['licnses', '--order', 'x'], /unknown command "licnses" \(did you mean "licenses"\?\)/],
    [['help', 'dcotor'], /no command "dcotor" \(did you mean "doctor"\?\)/],
    [['licenses', '--ordr', 'x'], /^keysmith: licenses: unknown option --ordr; did you mean --order\?\nRun `keysmith licenses --help` for the options\.\n$/],
    [['licenses', '--order'], /^keysmith: licenses: --order needs a value \(--order VALUE\)\n$/],
    [['keys', 'generate', '--force'], /keys: unknown option --force/],
    [['replay', 'd1', '--force=yes'], /replay: --force is a flag and takes no value/],
    [['dlq', 'lst'], /usage: keysmith dlq list \| show <message-id> \| redrive .* \(did you mean "list"\?\)/],
    [['show'], /usage: keysmith show <license-id>/],
    [['--bogus'], /unknown option --bogus/],
  ])('%j exits 2 with one clear line', async (args, message) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    // Never Node's raw parser text.
    expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|To specify an option argument/);
  });

  describe('finding the local stack', () => {
    let stack: LocalStack;
    let folder: string;
    /** The CLI run in `folder` (where a project's .keysmith would be), without PORT. */
    const runIn = (args: string[], env: Record<string, string | undefined> = {}) => cli(args, { cwd: folder, env: { PORT: undefined, ...env } });

    beforeAll(async () => {
      jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      folder = mkdtempSync(join(tmpdir(), 'keysmith-runfile-'));
      stack = await startLocalStack({ port: 0, stateDir: join(folder, '.keysmith'), log: false });
    }, 60_000);
    afterAll(async () => {
      await stack?.stop();
      jest.restoreAllMocks();
      rmSync(folder, { recursive: true, force: true });
    });

    it('reads the port from .keysmith/local.json while its process lives; PORT overrides it', async () => {
      // Prepare: the file npm start writes, naming a live process (this one) and the stack's port.
      writeRunFile(join(folder, '.keysmith'), { pid: process.pid, port: stack.port, url: stack.url, startedAt: new Date().toISOString() });

      // Act
      const [found, overridden] = await Promise.all([runIn(['dlq', 'list', '--json']), runIn(['dlq', 'list', '--json'], { PORT: '1' })]);

      // Assess
      expect(found.code).toBe(0);
      expect(JSON.parse(found.stdout)).toEqual({ count: 0, messages: [] });
      expect(overridden.code).toBe(6);
      expect(overridden.stderr).toMatch(/127\.0\.0\.1:1\b/);
    });

    it('ignores a file left by a stack whose process is gone', async () => {
      // A pid far above any real one: "no such process".
      writeRunFile(join(folder, '.keysmith'), { pid: 2 ** 22 + 12_345, port: stack.port, url: stack.url, startedAt: new Date().toISOString() });
      const r = await runIn(['dlq', 'list', '--json']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/127\.0\.0\.1:3000/);
    });
  });
});
