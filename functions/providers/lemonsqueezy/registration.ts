import { alphanumeric } from '../shared/secretForms';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES, SECRET_LENGTH } from './constants';

/** Lemon Squeezy, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const lemonsqueezyRegistration: WebhookRegistration = {
  name: 'lemonsqueezy',
  title: 'Lemon Squeezy',
  routes: [{ method: 'POST', path: '/webhooks/lemonsqueezy' }],
  entry: 'functions/providers/lemonsqueezy/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: 'KEYSMITH_LEMONSQUEEZY_SECRET',
      kind: 'shared-secret',
      about: `the signing secret of the webhook (Lemon Squeezy → Settings → Webhooks; ${SECRET_LENGTH.min}–${SECRET_LENGTH.max} characters)`,
      rotatable: true,
      problem: (value) =>
        value.length < SECRET_LENGTH.min || value.length > SECRET_LENGTH.max
          ? `must be ${SECRET_LENGTH.min}–${SECRET_LENGTH.max} characters: Lemon Squeezy accepts no other signing secret`
          : undefined,
      dev: { generate: () => ({ KEYSMITH_LEMONSQUEEZY_SECRET: alphanumeric(SECRET_LENGTH.max) }) },
    },
  ],
  provider: async () => (await import('./index')).lemonsqueezy,
  sample: async () => (await import('./sample')).lemonsqueezySample,
  // Replay: the signature header is not logged; the logged body was verified, and is what verify returned (the default).
  fuzz: async () => (await import('./fuzz')).lemonsqueezyFuzz,
  benchFloor: async () => (await import('./bench')).lemonsqueezyFloor,
};
