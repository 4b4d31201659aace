import type { EnqueueOutcome, HttpAnswer, WebhookRejection } from '../../ingress/types';

/**
 * Elements' expected answer is UNKNOWN (status codes, body, pending flows). keysmith answers
 * JSON either way (README §8): `{"success":true}` with 200 only once the event is in SQS —
 * Elements treats the 2xx as the account being provisioned ("after your SaaS product confirms
 * receipt of this action, the subscriber's billing period is initiated") — and
 * `{"success":false,"message":"…"}` otherwise: 4xx for a request we refuse, 503 for one we
 * could not make durable, so that Elements (presumably) retries it.
 */

const JSON_TYPE = { 'content-type': 'application/json' } as const;

export function answerElements({ events, accepted, failed }: EnqueueOutcome): HttpAnswer {
  if (events.length > 0 && failed.length === 0 && accepted.length === events.length) {
    return { status: 200, headers: { ...JSON_TYPE }, body: JSON.stringify({ success: true }) };
  }
  return { status: 503, headers: { ...JSON_TYPE }, body: JSON.stringify({ success: false, message: 'the event could not be queued; please retry' }) };
}

export function rejectElements(rejection: WebhookRejection): HttpAnswer {
  return {
    status: rejection.status,
    headers: { ...JSON_TYPE },
    body: JSON.stringify({ success: false, message: `${rejection.code}: ${rejection.message}` }),
  };
}
