import type { Secrets } from '../../functions/aws/secrets';
import type { Catalog } from '../../functions/domain/catalog';
import { type ApplyContext, apply } from '../../functions/domain/entitlement';
import type { FulfillmentEvent, ProviderName } from '../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { SampleBuilder } from '../../functions/providers/sample';
import { rawFromSample } from './apiEvent';
import type { RawRequest } from './http';
import { ingestInProcess } from './inProcess';
import type { Random } from './random';

/**
 * The orders of a soak run: for each, a purchase and, for some, a refund — each built by the
 * provider's own signed sample builder — and the schedule they go out in.
 *
 * Every delivery is sent twice with identical bytes, as a provider retrying after a lost answer
 * would. Either both copies go out at the same moment (a concurrent duplicate) or the copy
 * follows later, possibly after the order's other event (a late duplicate). A fraction of the
 * refunds go out before their purchase (a refund that overtook it — e.g. a provider retrying the
 * purchase after the refund went through).
 *
 * What each order must end as is computed before anything is sent, in-process: the purchase's
 * canonical event (the provider's own verify/parse/normalize via `runIngress`), then `apply` —
 * the licenses (ids and keys) the order must own, and whether the customer is owed an email.
 */

export type DeliveryKind = 'purchase' | 'refund';

export interface Step {
  kind: DeliveryKind;
  /** 2: both copies at once; 1: one copy (the other is another step). */
  copies: 1 | 2;
}

export interface Expected {
  scope: string;
  licenses: { licenseId: string; key: string }[];
  purchaseEventId: string;
  refundEventId?: string;
  /** License emails the customer must get (0 or 1). */
  emails: number;
}

export interface OrderPlan {
  index: number;
  provider: ProviderName;
  orderId: string;
  /** Unique per order: emails are counted per address. */
  email: string;
  purchase: RawRequest;
  refund?: RawRequest;
  refundFirst: boolean;
  steps: Step[];
  expected: Expected;
}

export interface PlanOptions {
  orders: number;
  /** Fraction of orders that are refunded. */
  refundRate: number;
  /** Fraction of refunds sent before their purchase. */
  refundFirstRate: number;
  /** Fraction of deliveries whose two copies go out at the same moment. */
  concurrentDuplicateRate: number;
  secrets: Record<string, string | undefined>;
  verifySecrets: Secrets;
  catalog: Catalog;
  context: ApplyContext;
  random: Random;
}

export async function planOrders(options: PlanOptions): Promise<OrderPlan[]> {
  const builders = new Map<ProviderName, SampleBuilder>();
  for (const registration of WEBHOOK_PROVIDERS) {
    const builder = await registration.sample();
    if (!builder.events.includes(builder.refundEvent)) throw new Error(`${registration.name}'s sample builder has no "${builder.refundEvent}" event (its refundEvent)`);
    builders.set(registration.name, builder);
  }
  const providers = WEBHOOK_PROVIDERS.map((r) => r.name);
  const scopes = new Set<string>();
  const plans: OrderPlan[] = [];
  const run = Date.now().toString(36);
  for (let index = 0; index < options.orders; index++) {
    const provider = providers[index % providers.length]!;
    const builder = builders.get(provider)!;
    const refunded = options.random.chance(options.refundRate);
    const email = `soak-${run}-${index}@example.com`;
    // Some samples derive further ids from the order id (Hotmart's subscriber code has 24 bits):
    // an order id whose scope is taken is replaced, so every order is its own entitlement.
    for (let attempt = 0; ; attempt++) {
      if (attempt > 20) throw new Error(`no free scope for ${provider} order ${index}`);
      const orderId = builder.soakOrderId(index * 32 + attempt, run);
      const purchase = builder.build({ secrets: options.secrets, orderId, email });
      const refund = refunded ? builder.build({ secrets: options.secrets, orderId, email, event: builder.refundEvent }) : undefined;
      const purchaseEvent = await genuineEvent(rawFromSample(purchase), options);
      if (scopes.has(`${provider}#${purchaseEvent.scope}`)) continue;
      scopes.add(`${provider}#${purchaseEvent.scope}`);
      const refundEvent = refund ? await genuineEvent(rawFromSample(refund), options) : undefined;
      if (refundEvent && refundEvent.scope !== purchaseEvent.scope && !(refundEvent.subscription?.id && refundEvent.scope === refundEvent.subscription.id)) {
        throw new Error(`${provider}: the refund lands on scope ${refundEvent.scope}, the purchase on ${purchaseEvent.scope}`);
      }
      if (refundEvent && refundEvent.action !== 'revoke') throw new Error(`${provider}: "${builder.refundEvent}" maps to ${refundEvent.action}, not revoke`);
      const granted = apply(undefined, purchaseEvent, options.context);
      if (granted.duplicate) throw new Error('unreachable: a first event is never a duplicate');
      const refundFirst = refunded && options.random.chance(options.refundFirstRate);
      plans.push({
        index,
        provider,
        orderId,
        email,
        purchase: rawFromSample(purchase),
        ...(refund ? { refund: rawFromSample(refund) } : {}),
        refundFirst,
        steps: schedule(refunded, refundFirst, options),
        expected: {
          scope: purchaseEvent.scope,
          licenses: granted.state.licenses.map((l) => ({ licenseId: l.licenseId, key: l.key })),
          purchaseEventId: purchaseEvent.eventId,
          ...(refundEvent ? { refundEventId: refundEvent.eventId } : {}),
          emails: !refundFirst && granted.applied.email?.kind === 'license' ? 1 : 0,
        },
      });
      break;
    }
  }
  return plans;
}

async function genuineEvent(raw: RawRequest, options: PlanOptions): Promise<FulfillmentEvent> {
  const result = await ingestInProcess(raw, { secrets: options.verifySecrets, catalog: options.catalog });
  const [event, ...more] = result.enqueued;
  if (!event || more.length > 0 || result.answer.status >= 300) {
    throw new Error(`a signed ${result.provider ?? '?'} sample did not become exactly one event in-process (status ${result.answer.status}: ${result.answer.body.slice(0, 200)})`);
  }
  return event;
}

/**
 * The order's deliveries in sending order. Each distinct delivery appears twice: as one step of
 * two concurrent copies, or as two steps with the copy at a random later position.
 */
function schedule(refunded: boolean, refundFirst: boolean, options: Pick<PlanOptions, 'concurrentDuplicateRate' | 'random'>): Step[] {
  const distinct: DeliveryKind[] = refunded ? (refundFirst ? ['refund', 'purchase'] : ['purchase', 'refund']) : ['purchase'];
  const steps: Step[] = [];
  const late: DeliveryKind[] = [];
  for (const kind of distinct) {
    if (options.random.chance(options.concurrentDuplicateRate)) steps.push({ kind, copies: 2 });
    else {
      steps.push({ kind, copies: 1 });
      late.push(kind);
    }
  }
  for (const kind of late) {
    const first = steps.findIndex((s) => s.kind === kind);
    const at = options.random.int(first + 1, steps.length);
    steps.splice(at, 0, { kind, copies: 1 });
  }
  return steps;
}

export function requestFor(plan: OrderPlan, kind: DeliveryKind): RawRequest {
  return kind === 'purchase' ? plan.purchase : plan.refund!;
}
