import { randomSecret } from '../shared/secretForms';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';

/** FastSpring, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const fastspringRegistration: WebhookRegistration = {
  name: 'fastspring',
  title: 'FastSpring',
  routes: [{ method: 'POST', path: '/webhooks/fastspring' }],
  entry: 'functions/providers/fastspring/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: 'KEYSMITH_FASTSPRING_SECRET',
      kind: 'shared-secret',
      about: 'the HMAC secret of the webhook (FastSpring → Integrations → Webhooks)',
      rotatable: true,
      dev: { generate: () => ({ KEYSMITH_FASTSPRING_SECRET: randomSecret() }) },
    },
  ],
  provider: async () => (await import('./index')).fastspring,
  sample: async () => (await import('./sample')).fastspringSample,
  // Replay: the signature header is not logged; the logged body was verified, and is what verify returned (the default).
  fuzz: async () => (await import('./fuzz')).fastspringFuzz,
  benchFloor: async () => (await import('./bench')).fastspringFloor,
};
