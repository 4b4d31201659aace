import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { EXAMPLE_CONFIG_PATH, readCatalogFile } from '../../functions/config/loadCatalog';
import { bundledConfigDefine } from '../../lib/constructs/bundledConfigDefine';
import { KEYSMITH_RUNTIME } from '../../lib/constructs/KeysmithFunction';
import { BENCH_DIR, ROOT as root } from './paths';

/**
 * A Lambda entry bundled exactly as `KeysmithFunction` has CDK bundle it (esbuild,
 * `--bundle --platform=node --format=cjs --minify --target=node<runtime>`, SDK bundled, the
 * catalog inlined). Shared by the cold-start bench and the bundle-size tests, so both measure the
 * same bytes.
 */

/**
 * Swaps keysmith's light AWS client modules for stand-ins with the same exports backed by the AWS
 * SDK (scripts/bench/sdkVariant): the same ingress, as it would be with @aws-sdk clients.
 */
const sdkInsteadOfLight: Plugin = {
  name: 'sdk-instead-of-light',
  setup(b) {
    b.onResolve({ filter: /\/light\/(sqs|dynamodb|secretsManager)$/ }, (args) => ({ path: resolve(BENCH_DIR, 'sdkVariant', `${args.path.split('/').pop()}.ts`) }));
  },
};

export interface Bundled {
  bytes: number;
  /** Source files (relative to the project root) with at least one byte in the bundle. */
  inputs: string[];
}

/** The esbuild options CDK's NodejsFunction uses for a KeysmithFunction (see KeysmithFunction.ts). */
export async function bundleLikeCdk(entry: string, outfile: string, options: { sdkVariant?: boolean } = {}): Promise<number> {
  return (await bundleLikeCdkWithInputs(entry, outfile, options)).bytes;
}

/** `bundleLikeCdk`, also naming what ended up in the bundle (after tree shaking). */
export async function bundleLikeCdkWithInputs(entry: string, outfile: string, options: { sdkVariant?: boolean } = {}): Promise<Bundled> {
  const catalog = readCatalogFile(resolve(root, EXAMPLE_CONFIG_PATH));
  const target = `node${/nodejs(\d+)/.exec(KEYSMITH_RUNTIME.name)![1]}`;
  const result = await build({
    entryPoints: [resolve(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target,
    format: 'cjs',
    minify: true,
    sourcemap: false,
    external: [],
    define: bundledConfigDefine(catalog),
    logLevel: 'error',
    metafile: true,
    absWorkingDir: root,
    ...(options.sdkVariant ? { plugins: [sdkInsteadOfLight] } : {}),
  });
  return { bytes: statSync(outfile).size, inputs: contributingInputs(result.metafile) };
}

function contributingInputs(metafile: Metafile): string[] {
  const out = new Set<string>();
  for (const output of Object.values(metafile.outputs)) for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) if (bytesInOutput > 0) out.add(input);
  return [...out].sort();
}
