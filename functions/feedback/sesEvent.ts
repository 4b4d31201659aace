import { z } from 'zod';
import { mailTagsFrom } from '../aws/mailer';
import { fulfillmentEventSchema } from '../domain/eventSchema';
import type { FulfillmentEvent } from '../domain/events';

/**
 * SES event publishing → the canonical event that records it on the order.
 *
 * The configuration set publishes bounces, complaints and rejects of every email sent through it
 * to an SNS topic. Each keysmith email carries its entitlement in SES message tags
 * (`functions/aws/mailer.ts`), so the event names its order without a lookup. It becomes a
 * `record` event — "store it, change nothing" — with the SES feedback id as its event id: the
 * worker's `processEvent` stores it on the entitlement exactly once, like any provider event.
 *
 * Both shapes are read: event publishing (`eventType`) and identity notifications
 * (`notificationType`), which carry the same fields.
 */

const recipients = z.array(z.object({ emailAddress: z.string() })).default([]);

const sesEventSchema = z.object({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.object({
    messageId: z.string().min(1),
    timestamp: z.string().min(1),
    tags: z.record(z.string(), z.array(z.string())).optional(),
  }),
  bounce: z
    .object({
      bounceType: z.string().default('Undetermined'),
      bounceSubType: z.string().optional(),
      bouncedRecipients: recipients,
      timestamp: z.string().optional(),
      feedbackId: z.string().optional(),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: recipients,
      complaintFeedbackType: z.string().optional(),
      timestamp: z.string().optional(),
      feedbackId: z.string().optional(),
    })
    .optional(),
  reject: z.object({ reason: z.string().optional() }).optional(),
});

export type FeedbackKind = 'bounce' | 'complaint' | 'reject';

export interface Feedback {
  kind: FeedbackKind;
  /** The event to run through the worker's `processEvent`. */
  event: FulfillmentEvent;
  /** The keysmith event whose email this is about (from the tags). */
  emailEventId: string;
  /** Addresses SES names; log them only masked. */
  recipients: string[];
  /** Bounce type and subtype, or complaint feedback type, or reject reason. */
  detail?: string;
}

export type ParsedFeedback = { ok: true; feedback: Feedback } | { ok: false; skip: string };

/**
 * Reasons recorded on the order. A permanent bounce means the customer never got the email; a
 * transient one (mailbox full) may still arrive after SES gives up retrying, so it says so.
 */
export const FEEDBACK_REASONS = {
  bounce: 'ses.bounce',
  transientBounce: 'ses.bounce.transient',
  complaint: 'ses.complaint',
  reject: 'ses.reject',
} as const;

export function parseSesEvent(message: unknown): ParsedFeedback {
  const parsed = sesEventSchema.safeParse(message);
  if (!parsed.success) return { ok: false, skip: 'not an SES event' };
  const ses = parsed.data;
  const type = (ses.eventType ?? ses.notificationType ?? '').toLowerCase();
  const tags = mailTagsFrom(ses.mail.tags);
  if (!tags) return { ok: false, skip: 'not a keysmith email (no keysmith tags)' };

  let kind: FeedbackKind;
  let reason: string;
  let feedbackId: string | undefined;
  let occurredAt: string | undefined;
  let recipientsOf: string[] = [];
  let detail: string | undefined;
  if (type === 'bounce' && ses.bounce) {
    kind = 'bounce';
    reason = ses.bounce.bounceType === 'Permanent' ? FEEDBACK_REASONS.bounce : FEEDBACK_REASONS.transientBounce;
    ({ feedbackId, timestamp: occurredAt } = ses.bounce);
    recipientsOf = ses.bounce.bouncedRecipients.map((r) => r.emailAddress);
    detail = [ses.bounce.bounceType, ses.bounce.bounceSubType].filter(Boolean).join('/');
  } else if (type === 'complaint' && ses.complaint) {
    kind = 'complaint';
    reason = FEEDBACK_REASONS.complaint;
    ({ feedbackId, timestamp: occurredAt } = ses.complaint);
    recipientsOf = ses.complaint.complainedRecipients.map((r) => r.emailAddress);
    detail = ses.complaint.complaintFeedbackType;
  } else if (type === 'reject') {
    kind = 'reject';
    reason = FEEDBACK_REASONS.reject;
    detail = ses.reject?.reason;
  } else {
    return { ok: false, skip: `SES event type "${type || 'unknown'}" is not recorded` };
  }

  const event = fulfillmentEventSchema.safeParse({
    provider: tags.provider,
    // SES gives bounces and complaints a feedback id; a reject happens once per message.
    eventId: `ses#${feedbackId ?? `${kind}#${ses.mail.messageId}`}`,
    occurredAt: occurredAt ?? ses.mail.timestamp,
    action: 'record',
    reason,
    scope: tags.scope,
    live: true,
    // Empty: a record event must not overwrite the customer on the entitlement.
    customer: { email: '' },
    items: [],
  });
  if (!event.success) return { ok: false, skip: `keysmith tags do not name an entitlement (${event.error.issues[0]?.message})` };
  return {
    ok: true,
    feedback: { kind, event: event.data, emailEventId: tags.eventId, recipients: recipientsOf, ...(detail ? { detail } : {}) },
  };
}
