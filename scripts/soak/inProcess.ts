import type { DeliveryLog } from '../../functions/aws/deliveryLog';
import type { EventQueue } from '../../functions/aws/queue';
import type { Secrets } from '../../functions/aws/secrets';
import type { Catalog } from '../../functions/domain/catalog';
import type { FulfillmentEvent, ProviderName } from '../../functions/domain/events';
import { runIngress } from '../../functions/ingress/pipeline';
import type { HttpAnswer, Provider } from '../../functions/ingress/types';
import type { Logger } from '../../functions/log/logger';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import { routeRequest } from './apiEvent';
import type { RawRequest } from './http';

/**
 * The ingress pipeline in-process: the provider module from the registry, `runIngress` with an
 * in-memory queue. What a request means (its canonical events) without the network, for the
 * soak's expectations and the property tests.
 */

export class RecordingQueue implements EventQueue {
  readonly sent: FulfillmentEvent[] = [];
  async send(events: FulfillmentEvent[]) {
    this.sent.push(...events);
    return { accepted: events, failed: [] as FulfillmentEvent[] };
  }
}

export const silentLog: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const providers = new Map<ProviderName, Provider>();

export async function providerModules(): Promise<Map<ProviderName, Provider>> {
  if (providers.size === 0) {
    for (const registration of WEBHOOK_PROVIDERS) providers.set(registration.name, await registration.provider());
  }
  return providers;
}

export interface InProcessResult {
  /** `undefined` when no route matched (the API answers 404/405 before any function runs). */
  provider?: ProviderName;
  answer: HttpAnswer;
  enqueued: FulfillmentEvent[];
}

export async function ingestInProcess(raw: RawRequest, deps: { secrets: Secrets; catalog: Catalog; log?: Logger; receivedAt?: Date; deliveries?: DeliveryLog }): Promise<InProcessResult> {
  const routed = routeRequest(raw, deps.receivedAt);
  if (routed.kind === 'none') return { answer: { status: routed.status, body: '' }, enqueued: [] };
  const provider = (await providerModules()).get(routed.provider)!;
  const queue = new RecordingQueue();
  const answer = await runIngress(provider, routed.request, {
    queue,
    catalog: deps.catalog,
    secrets: async () => deps.secrets,
    log: deps.log ?? silentLog,
    ...(deps.deliveries ? { deliveries: deps.deliveries } : {}),
  });
  return { provider: routed.provider, answer, enqueued: queue.sent };
}
