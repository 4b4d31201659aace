import fc from 'fast-check';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { apiPartition, type LicenseView, licenseView } from '../../../functions/domain/licenseView';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { type Checkpoint, processEvent } from '../../../functions/worker/processEvent';
import { ctx, type Step, stepArb, toEvent } from '../../helpers/lifecycleSteps';
import { MemoryMailer, MemoryStore, silentLogger } from '../../helpers/memory';

/**
 * What the license API answers from must never drift from the order: after any sequence of
 * storefront events, seller operations and duplicates — each delivery possibly crashing at any
 * checkpoint of the worker and being redelivered — every license's view carries exactly the terms
 * of that license in the order item, and the newest version wins.
 */

const CHECKPOINTS: readonly (Checkpoint | undefined)[] = [
  undefined,
  undefined,
  undefined,
  'after-flush',
  'after-state-write',
  'after-views',
  'after-lookups',
  'after-email-sent',
  'after-email-marked',
];
const terms = ({ v: _v, ...rest }: LicenseView) => rest;

describe('license views follow the order through crashes and redeliveries', () => {
  it('every license’s view equals its terms in the final order item', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WEBHOOK_PROVIDERS.map((p) => p.name)),
        fc.array(fc.tuple(stepArb, fc.constantFrom(...CHECKPOINTS), fc.boolean()), { maxLength: 25 }),
        fc.nat(25),
        fc.constantFrom(...CHECKPOINTS),
        async (provider, tail, purchaseAt, purchaseCrash) => {
          const steps: [Step, Checkpoint | undefined, boolean][] = [...tail];
          steps.splice(Math.min(purchaseAt, steps.length), 0, [{ kind: 'purchase' }, purchaseCrash, false]);
          const store = new MemoryStore();
          const mailer = new MemoryMailer();
          const deps = { store, mailer, context: () => ctx, log: silentLogger() };
          const sent: FulfillmentEvent[] = [];
          let message = 0;
          // Crashed deliveries whose redelivery comes only after everything else (a long backoff).
          const later: (() => Promise<void>)[] = [];
          const deliver = async (event: FulfillmentEvent, claimToken: string, checkpoint: (p: Checkpoint) => void, first: boolean) => {
            for (let delivery = 0; ; delivery++) {
              try {
                await processEvent(event, { ...deps, checkpoint }, { firstDelivery: first && delivery === 0, claimToken });
                return;
              } catch (error) {
                if (!String(error).includes('crash') || delivery > 3) throw error;
              }
            }
          };
          for (const [i, [step, crash, deferred]] of steps.entries()) {
            let event: FulfillmentEvent;
            if (step.kind === 'duplicate') {
              if (sent.length === 0) continue;
              event = sent[step.of % sent.length]!;
            } else event = toEvent(provider, step, i);
            sent.push(event);
            const claimToken = `m${message++}`;
            let armed = crash;
            const checkpoint = (point: Checkpoint) => {
              if (point === armed) {
                armed = undefined;
                throw new Error(`crash ${point}`);
              }
            };
            // A crash gives the message back; SQS redelivers it (same message id) until it succeeds —
            // at once, or (deferred) after every later event, which then finds its record unfinished.
            if (deferred && crash) {
              try {
                await processEvent(event, { ...deps, checkpoint }, { firstDelivery: true, claimToken });
              } catch (error) {
                if (!String(error).includes('crash')) throw error;
                later.push(() => deliver(event, claimToken, () => undefined, false));
              }
            } else await deliver(event, claimToken, checkpoint, true);
          }
          for (const redeliver of later) await redeliver();
          const stored = await store.get(provider, 'order-prop');
          if (!stored) return;
          for (const license of stored.state.licenses) {
            const view = store.views.get(apiPartition(license));
            expect(view).toBeDefined();
            expect(terms(view!)).toEqual(terms(licenseView(stored.state, license)));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
