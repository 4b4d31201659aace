import { applyContextFactory } from '../../config/applyContext';
import { apply } from '../../domain/entitlement';
import type { FulfillmentEvent } from '../../domain/events';
import type { HttpAnswer, ProviderContext } from '../../ingress/types';

/**
 * Paddle Classic emails the body of our 200 answer to the customer as part of the order, rendered
 * as Markdown (limits from Paddle's Order Fulfillment page: 30 s, at most 600 KB, otherwise it
 * retries every 10 minutes up to 4 times).
 *
 * The licenses are computed here by the very code the worker runs — `apply(undefined, event)` from
 * the domain — so the keys in the email are the keys the worker stores: both are derived from the
 * order, product and unit, never drawn at random. The same request therefore always gets the
 * byte-identical answer, whether it is Paddle's retry or a redelivery after a timeout.
 */

/** Paddle's limit is "600KB"; counted in decimal kilobytes so either reading of it holds. */
export const MAX_ANSWER_BYTES = 600_000;

/** Parses the license signing key once per process, like the worker does. */
const applyContext = applyContextFactory();

/** Characters with a meaning in Markdown, escaped with a backslash so they print as themselves. */
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+\-.!|<>]/g;

export function escapeMarkdown(text: string): string {
  return text.replace(MARKDOWN_SPECIAL, '\\$&');
}

/** One key: the key on its own line. Several: a Markdown list, one key per item. */
export function renderLicenses(keys: readonly string[]): string {
  if (keys.length === 1) return `${escapeMarkdown(keys[0]!)}\n`;
  return keys.map((key) => `- ${escapeMarkdown(key)}\n`).join('');
}

/**
 * The answer to a fulfillment request whose event is already in the queue.
 *
 * - Licenses issued: 200 with the keys.
 * - No catalog product matches (and no catch-all): still a paid order. The event is queued and the
 *   worker records the problem on the order; the customer gets a polite note instead of an error
 *   (a non-200 would only make Paddle retry into the same answer and then mark the order failed).
 * - More license text than Paddle accepts: 400 with a reason for the seller (Paddle shows it in
 *   the webhook log and reports the failure); the order is recorded all the same.
 * - A missing KEYSMITH_LICENSE_SECRET throws: the pipeline answers 503 and Paddle retries.
 */
export function fulfillmentAnswer(event: FulfillmentEvent, ctx: ProviderContext): HttpAnswer {
  const result = apply(undefined, event, applyContext(ctx.secrets, ctx.catalog));
  const issued = new Set(result.duplicate ? [] : result.applied.licenseIds);
  const keys = result.state.licenses.filter((license) => issued.has(license.licenseId)).map((license) => license.key);
  if (keys.length === 0) return { status: 200, body: pendingNote(event.scope) };
  const body = renderLicenses(keys);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_ANSWER_BYTES) {
    return {
      status: 400,
      body:
        `ANSWER_TOO_LARGE: order ${event.scope} has ${keys.length} licenses; listing them takes ${bytes} bytes and Paddle accepts at most ${MAX_ANSWER_BYTES}. ` +
        'The order and its licenses are recorded in keysmith; deliver them another way, or license fewer units per order ' +
        '(or one license with seats: "perUnit": false).\n',
    };
  }
  return { status: 200, body };
}

function pendingNote(orderId: string): string {
  return `${escapeMarkdown(`Thank you for your order. Your license will be sent to you separately; if you have any questions, please contact us and quote order ${orderId}.`)}\n`;
}
