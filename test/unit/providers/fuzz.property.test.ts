import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Secrets, secretsFrom } from '../../../functions/aws/secrets';
import type { Catalog } from '../../../functions/domain/catalog';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { ensureDevSecrets } from '../../../lib/local/devSecrets';
import { type FuzzCase, fuzzCases } from '../../../scripts/soak/fuzz/cases';
import { type FuzzContext, fuzzContext } from '../../../scripts/soak/fuzz/context';
import { judge } from '../../../scripts/soak/fuzz/oracle';
import { ingestInProcess } from '../../../scripts/soak/inProcess';
import { exampleCatalog } from '../../helpers/fixtures';

/**
 * Property: whatever arrives at a provider's webhook — random bytes, a genuine request with bits
 * flipped, fields changed, headers dropped or doubled, the route bent, the signature forged, a
 * JWT attack, a body at or over the size limit, or content fuzzed and then signed properly — the
 * ingress never answers 5xx, and it enqueues only what the oracle allows: nothing for a request
 * that must be refused, only the genuine events for a genuinely signed one (see
 * scripts/soak/fuzz/cases.ts for how each case's expectation is decided without running the code
 * under test). Runs the real pipeline (`runIngress`) with each provider's own module and an
 * in-memory queue, through the same request translation API Gateway does.
 *
 * fast-check prints the seed and the shrunk counterexample when it fails; KEYSMITH_FUZZ_SEED and
 * KEYSMITH_FUZZ_RUNS replay or widen a run.
 */

const RUNS = Number(process.env.KEYSMITH_FUZZ_RUNS ?? 250);
const SEED = process.env.KEYSMITH_FUZZ_SEED ? Number(process.env.KEYSMITH_FUZZ_SEED) : undefined;

describe('provider ingress under fuzzing (property)', () => {
  let stateDir: string;
  let ctx: FuzzContext;
  let secrets: Secrets;
  let catalog: Catalog;

  beforeAll(async () => {
    // Prepare: the local stack's own dev secrets (key pairs included), as a provider would sign.
    stateDir = mkdtempSync(join(tmpdir(), 'keysmith-fuzz-unit-'));
    const values = ensureDevSecrets(stateDir, {}).values;
    secrets = secretsFrom(values);
    catalog = exampleCatalog();
    ctx = await fuzzContext(values, { secrets, catalog });
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  const run = async (c: FuzzCase): Promise<void> => {
    const result = await ingestInProcess(c.request, { secrets, catalog });
    const problem = judge(c, { status: result.answer.status, enqueued: result.enqueued });
    if (problem) throw new Error(`${c.family} "${c.label}" on ${c.base ?? 'no base'}: ${problem} (answer ${result.answer.status}: ${result.answer.body.slice(0, 200)})`);
  };

  it.each(WEBHOOK_PROVIDERS.map((r) => r.name))('%s: never a 5xx, and enqueues only what the sender was entitled to', async (provider) => {
    await fc.assert(fc.asyncProperty(fuzzCases(ctx, { providers: [provider] }), run), { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) });
  });

  it('random bytes to any route are refused without an enqueue', async () => {
    const arbitrary = fuzzCases(ctx, { families: ['random-bytes'] });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (c) => {
        await run(c);
        // Random bytes carry no signature; only a right Hotmart/Selldone token makes them authentic.
        if (c.expect.kind !== 'authentic') expect(c.expect.kind).toBe('reject');
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  it('the oracle is not vacuous: genuine requests pass, forged ones are refused', async () => {
    for (const base of ctx.bases) {
      const genuine = await ingestInProcess(base.request, { secrets, catalog });
      expect({ base: base.name, status: genuine.answer.status < 300, events: genuine.enqueued.length }).toEqual({ base: base.name, status: true, events: base.genuine.length });
    }
    const forged = fc.sample(fuzzCases(ctx, { families: ['forged', 'jwt'] }), { numRuns: 200, seed: 7 });
    expect(forged.filter((c) => c.expect.kind === 'reject').length).toBeGreaterThan(150);
  });
});
