import { randomSecret } from '../shared/secretForms';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';

/** Polar, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const polarRegistration: WebhookRegistration = {
  name: 'polar',
  title: 'Polar',
  routes: [{ method: 'POST', path: '/webhooks/polar' }],
  entry: 'functions/providers/polar/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: 'KEYSMITH_POLAR_WEBHOOK_SECRET',
      kind: 'shared-secret',
      about: 'the webhook endpoint secret exactly as Polar shows it, `whsec_…` included (Polar → Settings → Webhooks)',
      rotatable: true,
      // Polar keys the HMAC with the shown string's bytes (./verify.ts): a trimmed or decoded copy would never match.
      problem: (value) => (value !== value.trim() ? 'has spaces or line breaks around it; paste the secret exactly as Polar shows it' : undefined),
      dev: { generate: () => ({ KEYSMITH_POLAR_WEBHOOK_SECRET: `whsec_${randomSecret()}` }) },
    },
  ],
  provider: async () => (await import('./index')).polar,
  sample: async () => (await import('./sample')).polarSample,
  // The webhook-id (the event's identity) is not logged, but it is the event id the delivery log
  // kept for the delivery; the signature was checked when it arrived.
  replay: {
    needsSecrets: false,
    rebuild: async () => (request, _ctx, recordedEventIds) => ({ body: request.body, webhookId: [...recordedEventIds][0] ?? '' }),
  },
  fuzz: async () => (await import('./fuzz')).polarFuzz,
  benchFloor: async () => (await import('./bench')).polarFloor,
};
