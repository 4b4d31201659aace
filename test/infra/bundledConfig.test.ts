import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { type Catalog, parseCatalog } from '../../functions/domain/catalog';
import { bundledConfigDefine, MAX_BUNDLED_CONFIG_BYTES } from '../../lib/constructs/bundledConfigDefine';
import { KeysmithFunction } from '../../lib/constructs/KeysmithFunction';
import { exampleCatalog, PROJECT_ROOT, useProjectTmpdir } from './support';

useProjectTmpdir();

/** Product texts a seller may well write, and that a shell would mangle. */
function trickyCatalog(): Catalog {
  const catalog = exampleCatalog();
  const product = catalog.products.default!;
  product.email.intro = `Only $49 — "quoted", 'single', \`backtick\`, $(echo pwned), \\ back\\slash, ünïcode → ✓`;
  product.email.instructions = 'Line one\nLine two with $HOME and !history and %PATH%';
  return parseCatalog(catalog);
}

describe('inlining the catalog into the bundles', () => {
  it('is a JS string literal holding exactly the catalog', () => {
    const catalog = trickyCatalog();
    const value = bundledConfigDefine(catalog).KEYSMITH_BUNDLED_CONFIG!;
    const literal = JSON.parse(value) as unknown; // what esbuild substitutes: a string, not an object
    expect(typeof literal).toBe('string');
    expect(JSON.parse(literal as string)).toEqual(catalog);
  });

  it('refuses a catalog too large for one command line', () => {
    const catalog = exampleCatalog();
    catalog.products.default!.email.instructions = 'x'.repeat(MAX_BUNDLED_CONFIG_BYTES);
    expect(() => bundledConfigDefine(catalog)).toThrow(/too large to inline/);
  });

  it('bundles with the local esbuild and the function sees the config as a string', async () => {
    // Prepare: a real bundle (no bundling-stacks override), like `cdk synth` does.
    const catalog = trickyCatalog();
    const app = new App();
    const stack = new Stack(app, 'Bundle');
    new KeysmithFunction(stack, 'Echo', {
      entry: 'test/infra/fixtures/echoBundledConfig.ts',
      projectRoot: PROJECT_ROOT,
      catalog,
      timeoutSeconds: 3,
      memoryMb: 128,
      description: 'test',
      environment: {},
    });
    // Act
    const assembly = app.synth();
    const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const bundle = require(join(assembly.directory, assets[0]!, 'index.js')) as { handler: () => Promise<{ type: string; value: string }> };
    const result = await bundle.handler();
    // Assess: loadCatalog's `typeof KEYSMITH_BUNDLED_CONFIG === 'string'` branch, same catalog.
    expect(result.type).toBe('string');
    expect(parseCatalog(JSON.parse(result.value))).toEqual(catalog);
  }, 60_000);
});
