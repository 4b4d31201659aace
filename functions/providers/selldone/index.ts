import type { Provider } from '../../ingress/types';
import { parseJson, parseWith } from '../shared/json';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { normalizeOrder } from './normalize';
import { headerSchema, onlineOrderSchema, type SelldoneOnlineOrder } from './schema';
import { verifySelldone } from './verify';

/**
 * Selldone "Online Order" webhook (README §3, §8), `POST /webhooks/selldone/{secret}`.
 *
 * verify  the `{secret}` path segment equals KEYSMITH_SELLDONE_PATH_SECRET (≥ 32 characters),
 *         constant time, before the body is read                                  → ./verify.ts
 * parse   `{event: "OnlineOrder", action, shop, basket, user, customer}`          → ./schema.ts
 * map     PaymentOrder (Payed) / ToCustomer (COD) → grant; CancelProduct, ReturnOrder → revoke;
 *         everything else recorded                                                 → ./normalize.ts
 * answer  200 once the event is in SQS; 503 otherwise (Selldone retries, and switches a webhook
 *         off after 100 failures).
 *
 * Other Selldone webhook types (Inventory, PosOrder, …) sent to this URL are answered 200 and
 * ignored: keysmith fulfils online orders only, and a failing URL would be switched off.
 */

type SelldoneDelivery = { kind: 'order'; order: SelldoneOnlineOrder } | { kind: 'ignored'; event: string };

export const selldone: Provider<Buffer, SelldoneDelivery> = {
  name: 'selldone',
  // Baskets embed product and variant objects per item; a large order stays far below this.
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifySelldone,

  parse(body) {
    const json = parseJson(body, headerSchema);
    if (json.event !== 'OnlineOrder') return { kind: 'ignored', event: json.event.slice(0, 100) };
    return { kind: 'order', order: parseWith(onlineOrderSchema, json) };
  },

  normalize(delivery, request, ctx) {
    return delivery.kind === 'order' ? [normalizeOrder(delivery.order, request, ctx.catalog)] : [];
  },

  answer({ failed }, delivery) {
    if (failed.length > 0) return { status: 503, body: 'the event could not be queued, please retry\n' };
    if (delivery.kind === 'ignored') return { status: 200, body: `OK: "${delivery.event}" webhooks are ignored; keysmith handles OnlineOrder\n` };
    return { status: 200, body: 'OK\n' };
  },
};
