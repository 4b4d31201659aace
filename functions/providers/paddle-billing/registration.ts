import { randomSecret } from '../shared/secretForms';
import { toleranceSetting } from '../shared/settings';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, DEFAULT_TOLERANCE_SECONDS, MAX_BODY_BYTES, TOLERANCE_SETTING } from './constants';
import { LOCAL_KEY_PREFIX } from './customer';
import { API_KEY, SANDBOX_SECRET, SECRET } from './names';

const notAnApiKey = (value: string) => (/^pdl_(live|sdbx)_apikey_/.test(value) ? 'is a Paddle API key; use the notification destination secret key (pdl_ntfset_…)' : undefined);

/** Paddle Billing, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const paddleBillingRegistration: WebhookRegistration = {
  name: 'paddle-billing',
  title: 'Paddle Billing',
  routes: [{ method: 'POST', path: '/webhooks/paddle-billing' }],
  entry: 'functions/providers/paddle-billing/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: SECRET,
      kind: 'shared-secret',
      about: 'the secret key pdl_ntfset_… of the notification destination (Paddle → Developer tools → Notifications)',
      rotatable: true,
      problem: notAnApiKey,
      dev: { generate: () => ({ [SECRET]: `pdl_ntfset_${randomSecret()}` }) },
    },
    {
      name: SANDBOX_SECRET,
      kind: 'shared-secret',
      about: 'the same, of the sandbox account’s destination (its orders are test orders)',
      rotatable: true,
      optionalBecause: 'only Paddle sandbox notifications need it',
      problem: notAnApiKey,
      // Locally the samples sign with it, so `keysmith send paddle-billing` makes test licenses.
      dev: { generate: () => ({ [SANDBOX_SECRET]: `pdl_ntfset_${randomSecret()}` }) },
    },
    {
      name: API_KEY,
      kind: 'shared-secret',
      about: 'a Paddle API key with customer.read, to look up the email of a buyer whose checkout passed none in customData',
      optionalBecause: 'only needed when checkouts do not pass customData.email',
      problem: (value) => (value.startsWith('pdl_ntfset_') ? 'is a notification destination secret; use an API key (Paddle → Developer tools → Authentication)' : undefined),
      // No Paddle API locally: a key of this form is never sent anywhere (customer.ts); the samples carry custom_data.email.
      dev: { generate: () => ({ [API_KEY]: `${LOCAL_KEY_PREFIX}${randomSecret()}` }) },
    },
  ],
  provider: async () => (await import('./index')).paddleBilling,
  sample: async () => (await import('./sample')).paddleBillingSample,
  // The signature header is not logged: replay rebuilds live/sandbox from the configured secrets
  // and looks the customer up again when an API key is set.
  replay: {
    needsSecrets: true,
    rebuild: async () => (await import('./replay')).rebuildVerified,
  },
  fuzz: async () => (await import('./fuzz')).paddleBillingFuzz,
  benchFloor: async () => (await import('./bench')).paddleBillingFloor,
  settings: [toleranceSetting(TOLERANCE_SETTING, DEFAULT_TOLERANCE_SECONDS, 'how old (or how far ahead) a Paddle-Signature ts may be')],
};
