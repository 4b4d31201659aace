import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildKeysmithApp } from '../../lib/keysmith-stack';
import { appWithoutBundling, EXAMPLE_CONFIG, PROJECT_ROOT, useProjectTmpdir } from './support';

const tmp = useProjectTmpdir();

function writeConfig(name: string, change: (config: any) => void): string {
  const config = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
  change(config);
  const path = join(tmp.dir(), name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('config at synth time', () => {
  it('fails with the file and the problem when the sender is not an email address', () => {
    const path = writeConfig('bad-sender.json', (c) => (c.sender.from = 'licenses-at-example'));
    expect(() => buildKeysmithApp(appWithoutBundling(), { configPath: path })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\S]*sender\\.from: must be an email address`)) }),
    );
  });

  it('fails clearly when the file is missing', () => {
    expect(() => buildKeysmithApp(appWithoutBundling(), { configPath: join(tmp.dir(), 'nope.json') })).toThrow(/cannot read keysmith config .*nope\.json/);
  });

  it('reads the config and stack name from context, and grants mail from that sender', () => {
    const path = writeConfig('other.json', (c) => (c.sender.from = 'keys@shop.example.org'));
    const stack = buildKeysmithApp(appWithoutBundling({ config: path, stackName: 'ShopKeys' }), { nag: false });
    expect(stack.stackName).toBe('ShopKeys');
    const policies = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policies).toContain(':identity/shop.example.org"');
    expect(policies).toContain(':identity/keys@shop.example.org"');
  });

  it('makes `cdk synth` (bin/cdk-app.cjs) exit 1 with the message, not a stack trace', () => {
    const path = writeConfig('bad-cli.json', (c) => (c.sender.from = 'nobody'));
    const run = spawnSync(process.execPath, ['bin/cdk-app.cjs'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, KEYSMITH_CONFIG: path, CDK_OUTDIR: join(tmp.dir(), 'cdk.out') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('sender.from: must be an email address');
    expect(run.stderr).toContain(path);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
