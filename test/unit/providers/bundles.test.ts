import { relative } from 'node:path';
import { build } from 'esbuild';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { PROJECT_ROOT } from '../../infra/support';

/**
 * A provider's Lambda bundle holds its own folder and the shared ingress code — never another
 * provider, the registry, its registration (secret checks, dev values), samples, fuzz or bench
 * hooks, nor CLI, CDK or script code. Bundled as `KeysmithFunction` bundles (esbuild, CJS,
 * minified, node target), reading esbuild's own list of inputs.
 */

/** Files of a provider folder only the CLI, the local stack, the soak and the tests load. */
const NOT_IN_LAMBDA = ['registration.ts', 'sample.ts', 'fuzz.ts', 'bench.ts', 'replay.ts'];
/** A ceiling (minified bytes): bundles are 80–100 KB today; the registry alone is ~170 KB. */
const MAX_BUNDLE_BYTES = 160 * 1024;

describe.each(WEBHOOK_PROVIDERS.map((r) => [r.name, r] as const))('the %s ingress bundle', (name, registration) => {
  it('holds its own folder and shared code only, and stays small', async () => {
    // Act
    const result = await build({
      entryPoints: [registration.entry],
      absWorkingDir: PROJECT_ROOT,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      write: false,
      metafile: true,
      define: { 'process.env.KEYSMITH_BUNDLED_CONFIG': '""' },
      logLevel: 'silent',
    });
    // Assess
    const inputs = Object.keys(result.metafile.inputs).map((path) => relative(PROJECT_ROOT, `${PROJECT_ROOT}/${path}`));
    const own = inputs.filter((path) => path.startsWith(`functions/providers/${name}/`));
    expect(own).toContain(registration.entry);
    const strays = inputs.filter(
      (path) =>
        (path.startsWith('functions/providers/') && !path.startsWith(`functions/providers/${name}/`) && !path.startsWith('functions/providers/shared/')) ||
        NOT_IN_LAMBDA.some((file) => path === `functions/providers/${name}/${file}`) ||
        path === 'functions/providers/shared/secretForms.ts' ||
        /^(lib|scripts|bin|test)\//.test(path),
    );
    expect(strays).toEqual([]);
    const bytes = result.outputFiles.reduce((sum, file) => sum + file.contents.byteLength, 0);
    expect(bytes).toBeLessThan(MAX_BUNDLE_BYTES);
  });
});
