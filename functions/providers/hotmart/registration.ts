import { randomSecret } from '../shared/secretForms';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';

/** Hotmart, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const hotmartRegistration: WebhookRegistration = {
  name: 'hotmart',
  title: 'Hotmart',
  routes: [{ method: 'POST', path: '/webhooks/hotmart' }],
  entry: 'functions/providers/hotmart/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: 'KEYSMITH_HOTMART_HOTTOK',
      kind: 'shared-secret',
      about: 'the hottok Hotmart sends with every webhook (Hotmart → Tools → Webhook)',
      rotatable: true,
      dev: { generate: () => ({ KEYSMITH_HOTMART_HOTTOK: randomSecret() }) },
    },
  ],
  provider: async () => (await import('./index')).hotmart,
  sample: async () => (await import('./sample')).hotmartSample,
  // The hottok was checked and is not logged (the ingress removes the body's copy): verify returned the body.
  replay: { needsSecrets: false, rebuild: async () => (request) => ({ body: request.body }) },
  fuzz: async () => (await import('./fuzz')).hotmartFuzz,
  benchFloor: async () => (await import('./bench')).hotmartFloor,
};
