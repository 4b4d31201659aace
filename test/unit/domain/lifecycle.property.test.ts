import fc from 'fast-check';
import { apply, type Entitlement, effectiveStatus, retirePending } from '../../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { ctx, type Step, stepArb, toEvent, UNITS } from '../../helpers/lifecycleSteps';

/**
 * The lifecycle against a reference model. The model below is written from the holds table
 * alone (README "Lifecycle"), with its own data structures — sets of hold names per license,
 * nothing from functions/domain — and random sequences of every kind of event, manual
 * operations, duplicates and out-of-order deliveries go through the real `apply`: the final
 * status of every license, and whether it has expired, must agree.
 */

// ---- the reference model ----------------------------------------------------------------

interface Model {
  granted: boolean;
  /** Holds on the whole order (they also cover licenses issued later). */
  order: Set<string>;
  /** Holds on each license (by unit). */
  unit: Set<string>[];
  periodEnd: string | null;
}

const FINAL = ['refund', 'seller-revoke'];
const SUSPENDING = ['dispute', 'provider-suspend', 'seller-suspend'];

function modelStep(m: Model, step: Step): void {
  const everywhere = (hold: string) => {
    for (const s of [m.order, ...m.unit]) s.delete(hold);
  };
  switch (step.kind) {
    case 'purchase':
      m.granted = true;
      return;
    case 'refund':
      m.order.add('refund');
      return;
    case 'partialRefund':
      // One unit returned: the newest unit of the product; before the purchase there is no unit
      // to name, so the return holds the whole order.
      if (m.granted) m.unit[UNITS - 1]!.add('refund');
      else m.order.add('refund');
      return;
    case 'disputeOpened':
      m.order.add('dispute');
      return;
    case 'disputeWon':
      everywhere('dispute');
      return;
    case 'providerSuspend':
      m.order.add('provider-suspend');
      return;
    case 'providerReinstate':
      everywhere('provider-suspend');
      m.periodEnd = null;
      return;
    case 'cancelAtPeriodEnd':
      m.periodEnd = '2026-05-01T00:00:00.000Z';
      return;
    case 'renew':
      m.periodEnd = null;
      return;
    case 'sellerSuspend':
      if (m.granted) m.unit[step.unit]!.add('seller-suspend');
      return;
    case 'sellerReinstate':
      if (m.granted) m.unit[step.unit]!.delete('seller-suspend');
      return;
    case 'sellerRevoke':
      if (m.granted) m.unit[step.unit]!.add('seller-revoke');
      return;
    case 'note':
    case 'duplicate':
      return;
  }
}

function modelStatus(m: Model, unit: number, now: Date): string {
  const holds = new Set([...m.order, ...m.unit[unit]!]);
  if (FINAL.some((h) => holds.has(h))) return 'revoked';
  if (SUSPENDING.some((h) => holds.has(h))) return 'suspended';
  if (m.periodEnd !== null && Date.parse(m.periodEnd) <= now.getTime()) return 'expired';
  return 'active';
}

describe('lifecycle: apply agrees with the reference model', () => {
  it('over random sequences of every event kind, manual operations, duplicates and out-of-order purchases', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WEBHOOK_PROVIDERS.map((p) => p.name)), fc.array(stepArb, { minLength: 0, maxLength: 40 }), fc.nat(40), fc.boolean(), (provider, tail, purchaseAt, retire) => {
        // The purchase somewhere in the sequence: holds may arrive before it (a redrive, another FIFO group).
        const steps: Step[] = [...tail];
        steps.splice(Math.min(purchaseAt, steps.length), 0, { kind: 'purchase' });
        const model: Model = { granted: false, order: new Set(), unit: Array.from({ length: UNITS }, () => new Set<string>()), periodEnd: null };
        const sent: FulfillmentEvent[] = [];
        const recorded = new Set<string>();
        let state: Entitlement | undefined;
        steps.forEach((step, i) => {
          let event: FulfillmentEvent;
          if (step.kind === 'duplicate') {
            if (sent.length === 0) return;
            event = sent[step.of % sent.length]!;
          } else {
            // Seller operations target licenses; before the purchase there is none to target.
            event = toEvent(provider, step, i);
            modelStep(model, step);
          }
          sent.push(event);
          // The worker first asks the event's record item (records that left `pending`).
          if (recorded.has(event.eventId)) return;
          const result = apply(state, event, ctx);
          if (step.kind === 'duplicate') expect(result.duplicate).toBe(true);
          state = result.state;
          // Half the runs let the worker retire finished records, as it does between events.
          if (retire) {
            const finished = state.pending.slice(0, -1);
            retirePending(state, finished);
            for (const r of finished) recorded.add(r.eventId);
          }
        });
        const s = state!;
        const later = new Date('2026-05-02T00:00:00Z');
        const found = s.licenses.map((l) => effectiveStatus(l, later, s));
        const expected = Array.from({ length: UNITS }, (_, u) => modelStatus(model, u, later));
        expect(found).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });
});
