import { randomSecret } from '../shared/secretForms';
import { toleranceSetting } from '../shared/settings';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, DEFAULT_TOLERANCE_SECONDS, MAX_BODY_BYTES, TOLERANCE_SETTING } from './constants';
import { SECRET } from './names';

/** Stripe, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const stripeRegistration: WebhookRegistration = {
  name: 'stripe',
  title: 'Stripe',
  routes: [{ method: 'POST', path: '/webhooks/stripe' }],
  entry: 'functions/providers/stripe/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: SECRET,
      kind: 'shared-secret',
      about: 'the signing secret whsec_… of the webhook endpoint (Stripe → Developers → Webhooks → the endpoint)',
      rotatable: true,
      problem: (value) => {
        if (/^(sk|rk|pk)_/.test(value)) return 'is a Stripe API key; use the endpoint signing secret (whsec_…)';
        if (!value.startsWith('whsec_')) return 'must be the endpoint signing secret, which starts with whsec_';
        return undefined;
      },
      dev: { generate: () => ({ [SECRET]: `whsec_${randomSecret()}` }) },
    },
  ],
  provider: async () => (await import('./index')).stripe,
  sample: async () => (await import('./sample')).stripeSample,
  // Replay: the signature header is not logged; the logged body was verified, and is what verify returned (the default).
  fuzz: async () => (await import('./fuzz')).stripeFuzz,
  benchFloor: async () => (await import('./bench')).stripeFloor,
  settings: [toleranceSetting(TOLERANCE_SETTING, DEFAULT_TOLERANCE_SECONDS, 'how old (or how far ahead) a Stripe-Signature timestamp may be')],
};
