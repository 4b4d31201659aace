import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { LICENSING_ENTRY } from '../../functions/licensing/routes';
import { KeysmithFunction } from '../../lib/constructs/KeysmithFunction';
import { bundleLikeCdkWithInputs } from '../../scripts/bench/bundle';
import { exampleCatalog, PROJECT_ROOT, useProjectTmpdir } from './support';

const tmp = useProjectTmpdir();

/** Issue 11 ("Numbers"): the license API's function is held to the ingress standard. */
const MAX_LICENSING_BUNDLE_BYTES = 100 * 1024;
/** What every bundle that carries an AWS SDK client contains (module ids, user agent, signer). */
const SDK_FINGERPRINT = /@aws-sdk\/|aws-sdk-js|@smithy\//;

/** The licensing function exactly as the stack declares it, bundled for real (as `cdk synth` does); its index.js. */
function cdkLicensingBundle(): string {
  const app = new App();
  const stack = new Stack(app, 'LicensingBundle');
  new KeysmithFunction(stack, 'Licensing', {
    entry: LICENSING_ENTRY,
    projectRoot: PROJECT_ROOT,
    catalog: exampleCatalog(),
    timeoutSeconds: 5,
    memoryMb: 256,
    description: 'test',
    environment: {},
  });
  const assembly = app.synth();
  const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
  expect(assets).toHaveLength(1);
  return join(assembly.directory, assets[0]!, 'index.js');
}

describe('the licensing bundle', () => {
  it('as CDK builds it, is at most 100 KB and carries no AWS SDK code', () => {
    // Act
    const file = cdkLicensingBundle();
    // Assess
    expect(statSync(file).size).toBeLessThanOrEqual(MAX_LICENSING_BUNDLE_BYTES);
    expect(readFileSync(file, 'utf8')).not.toMatch(SDK_FINGERPRINT);
  }, 120_000);

  it('as the benchmark builds it, has the same bytes and no @aws-sdk or @smithy module reaches it', async () => {
    // Prepare
    const cdkBytes = statSync(cdkLicensingBundle()).size;
    // Act: scripts/bench's bundleLikeCdk, whose figure BENCHMARKS.md reports.
    const bundled = await bundleLikeCdkWithInputs(LICENSING_ENTRY, join(tmp.dir(), 'licensing.js'));
    // Assess: the benchmark measures what CDK ships, and no SDK module contributes to it.
    expect(bundled.bytes).toBe(cdkBytes);
    expect(bundled.inputs).toContain(LICENSING_ENTRY);
    expect(bundled.inputs.filter((input) => /node_modules\/(@aws-sdk|@smithy)\//.test(input))).toEqual([]);
  }, 120_000);
});
