import { createHash } from 'node:crypto';
import type * as z from 'zod/mini';
import type { fulfillmentEventSchema } from './eventSchema';

/**
 * A provider's name, e.g. `paddle`: one of functions/providers/registry.ts. The domain takes any
 * name of this form, so adding a provider (or the CLI's own `manual` grants) never edits it; the
 * registry is checked where names come from people (CLI options, the catalog at synth time).
 */
export type ProviderName = string;

/** What a provider name looks like: it is part of keys, FIFO group ids and secret names. */
export const PROVIDER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** What an event does to an entitlement. `record` stores it and changes nothing. */
export const ACTIONS = ['grant', 'revoke', 'suspend', 'reinstate', 'extend', 'change', 'record'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * The canonical event every provider is normalized into (DESIGN.md §2). Its bounds live in
 * ./eventBounds.ts; `canonicalEvent` (./canonicalEvent.ts) makes an event fit them and checks it,
 * at the ingress before enqueueing and at the worker on reading. The zod schema
 * (./eventSchema.ts) states the same rules for the CLI and for this type; the ingress does not
 * load it (zod costs 8–10 µs per event there, see canonicalEvent.ts).
 */
export type FulfillmentEvent = z.infer<typeof fulfillmentEventSchema>;

/** The FIFO message group: all events of one entitlement are applied in order. */
export function messageGroupId(event: Pick<FulfillmentEvent, 'provider' | 'scope'>): string {
  return sqsSafeId(`${event.provider}#${event.scope}`);
}

/** The FIFO deduplication id: the same provider event enqueued twice is dropped by SQS. */
export function deduplicationId(event: Pick<FulfillmentEvent, 'provider' | 'eventId'>): string {
  return sqsSafeId(`${event.provider}#${event.eventId}`);
}

/**
 * SQS accepts up to 128 printable ASCII characters in group and deduplication ids. Provider ids
 * usually fit; anything else is replaced by a stable hash so it still groups and dedupes.
 */
function sqsSafeId(id: string): string {
  if (id.length <= 128 && /^[\x21-\x7e]+$/.test(id)) return id;
  return `sha256:${createHash('sha256').update(id).digest('base64url')}`;
}
