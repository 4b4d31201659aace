import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { parseCatalog } from '../../functions/domain/catalog';
import { PROVIDER_NAMES } from '../../functions/providers/registry';
import { exampleCatalogProblem, unknownCatalogProviders } from '../../lib/catalogWarnings';
import { buildKeysmithApp, KeysmithStack } from '../../lib/keysmith-stack';
import { appWithoutBundling, EXAMPLE_CONFIG, exampleCatalog, PROJECT_ROOT, useProjectTmpdir } from './support';

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

describe('the example catalog and where the catalog comes from', () => {
  const ownCatalog = () => {
    const c = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
    c.sender.from = 'licenses@myshop.io';
    c.products = { pro: { ...c.products.default, name: 'MyShop Pro', match: { fastspring: ['myshop-pro'] } } };
    delete c.defaultProduct;
    return c;
  };

  it('warns at synth when the stack deploys the example catch-all catalog', () => {
    const stack = new KeysmithStack(appWithoutBundling(), 'Keysmith', { catalog: exampleCatalog() });
    Annotations.fromStack(stack).hasWarning('/Keysmith', Match.stringLikeRegexp('example catalog[\\s\\S]*licenses ANY product id'));
  });

  it("does not warn for a seller's own catalog", () => {
    const stack = new KeysmithStack(appWithoutBundling(), 'Own', { catalog: parseCatalog(ownCatalog()) });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('example catalog|documentation domain'));
    expect(exampleCatalogProblem(parseCatalog(ownCatalog()))).toBeUndefined();
  });

  it('warns at synth when a product matches ids of a provider the registry does not know (a typo matches no order)', () => {
    // Prepare: the domain takes any well-formed provider name, so only the registry can tell a typo.
    const typo = ownCatalog();
    typo.products.pro.match = { fastsprng: ['myshop-pro'], paddle: ['1234'] };
    // Act
    const stack = new KeysmithStack(appWithoutBundling(), 'Typo', { catalog: parseCatalog(typo) });
    // Assess
    Annotations.fromStack(stack).hasWarning('/Typo', Match.stringLikeRegexp('match ids of fastsprng, which no registered provider is'));
    expect(unknownCatalogProviders(parseCatalog(typo), PROVIDER_NAMES)).toEqual(['fastsprng']);
    expect(unknownCatalogProviders(parseCatalog(ownCatalog()), PROVIDER_NAMES)).toEqual([]);
    Annotations.fromStack(new KeysmithStack(appWithoutBundling(), 'Known', { catalog: parseCatalog(ownCatalog()) })).hasNoWarning('*', Match.stringLikeRegexp('no registered provider'));
  });

  it('flags a copy of the example that still mails from example.com', () => {
    const copy = ownCatalog();
    copy.sender.from = 'keys@example.com';
    expect(exampleCatalogProblem(parseCatalog(copy))).toMatch(/keys@example\.com, a documentation domain/);
  });

  it('a plain `cdk deploy` picks up keysmith.config.json in the project folder, and says when it falls back to the example', () => {
    // Prepare: one project folder with the seller's catalog, one without.
    const withConfig = join(tmp.dir(), 'with-config');
    const without = join(tmp.dir(), 'without');
    mkdirSync(withConfig, { recursive: true });
    mkdirSync(without, { recursive: true });
    writeFileSync(join(withConfig, 'keysmith.config.json'), JSON.stringify(ownCatalog()));
    const saved = process.env.KEYSMITH_CONFIG;
    delete process.env.KEYSMITH_CONFIG;
    try {
      // Act
      const own = buildKeysmithApp(appWithoutBundling(), { projectDir: withConfig, nag: false, stackName: 'Own' });
      const fallback = buildKeysmithApp(appWithoutBundling(), { projectDir: without, nag: false, stackName: 'Fallback' });
      // Assess
      expect(JSON.stringify(Template.fromStack(own).findResources('AWS::IAM::Policy'))).toContain(':identity/licenses@myshop.io"');
      Annotations.fromStack(own).hasNoWarning('*', Match.stringLikeRegexp('Falling back|example catalog'));
      Annotations.fromStack(fallback).hasWarning('/Fallback', Match.stringLikeRegexp('Falling back to config/keysmith\\.example\\.json[\\s\\S]*keysmith\\.config\\.json'));
      Annotations.fromStack(fallback).hasWarning('/Fallback', Match.stringLikeRegexp('example catalog'));
    } finally {
      if (saved !== undefined) process.env.KEYSMITH_CONFIG = saved;
    }
  });
});

describe('provider settings at synth time', () => {
  const environmentOf = (stack: KeysmithStack, provider: string): Record<string, unknown> => {
    const fn = stack.ingressFunctions.get(provider)!;
    const resource = Template.fromStack(stack).findResources('AWS::Lambda::Function')[stack.getLogicalId(fn.node.defaultChild as never)] as any;
    return resource.Properties.Environment.Variables;
  };

  it('sets a tolerance from context on its own provider’s ingress only', () => {
    const stack = buildKeysmithApp(appWithoutBundling({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: '600' }), { configPath: EXAMPLE_CONFIG, nag: false });
    expect(environmentOf(stack, 'stripe')).toMatchObject({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: '600' });
    for (const other of PROVIDER_NAMES.filter((p) => p !== 'stripe' && stack.ingressFunctions.has(p))) {
      expect(Object.keys(environmentOf(stack, other))).not.toContain('KEYSMITH_STRIPE_TOLERANCE_SECONDS');
    }
    expect(environmentOf(stack, 'paddle-billing')).not.toHaveProperty('KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS');
  });

  it('takes a setting from the environment when context has none, and context over the environment', () => {
    const previous = process.env.KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS;
    process.env.KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS = '120';
    try {
      expect(environmentOf(buildKeysmithApp(appWithoutBundling(), { configPath: EXAMPLE_CONFIG, nag: false }), 'paddle-billing')).toMatchObject({ KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS: '120' });
      const overridden = buildKeysmithApp(appWithoutBundling({ KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS: 900 }), { configPath: EXAMPLE_CONFIG, nag: false });
      expect(environmentOf(overridden, 'paddle-billing')).toMatchObject({ KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS: '900' });
    } finally {
      if (previous === undefined) delete process.env.KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS;
      else process.env.KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS = previous;
    }
  });

  it.each([
    ['not a number', '5m', /KEYSMITH_STRIPE_TOLERANCE_SECONDS .*must be a whole number of seconds, got "5m"/],
    ['zero', '0', /must be from 1 to 86400 seconds, got 0/],
    ['over a day', '86401', /must be from 1 to 86400 seconds, got 86401/],
  ])('refuses a tolerance that is %s, instead of silently using the default', (_what, value, message) => {
    expect(() => buildKeysmithApp(appWithoutBundling({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: value }), { configPath: EXAMPLE_CONFIG, nag: false })).toThrow(message);
  });

  it('refuses a setting no provider declares', () => {
    expect(() => new KeysmithStack(appWithoutBundling(), 'Unknown', { catalog: exampleCatalog(), providerSettings: { KEYSMITH_STRIPE_TOLERANCE: '10' } })).toThrow(
      /KEYSMITH_STRIPE_TOLERANCE is not a setting of any provider \(known: .*KEYSMITH_STRIPE_TOLERANCE_SECONDS/,
    );
  });
});
