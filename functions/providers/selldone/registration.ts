import { alphanumeric, pathSecretProblem } from '../shared/secretForms';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES, MIN_PATH_SECRET_LENGTH } from './constants';

/** Selldone, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const selldoneRegistration: WebhookRegistration = {
  name: 'selldone',
  title: 'Selldone',
  routes: [{ method: 'POST', path: '/webhooks/selldone/{secret}' }],
  entry: 'functions/providers/selldone/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: 'KEYSMITH_SELLDONE_PATH_SECRET',
      kind: 'path-secret',
      about: `the last path segment of the webhook URL you give Selldone (≥ ${MIN_PATH_SECRET_LENGTH} URL-safe characters)`,
      rotatable: true,
      problem: (value) => pathSecretProblem(value, MIN_PATH_SECRET_LENGTH, 'Selldone'),
      dev: { generate: () => ({ KEYSMITH_SELLDONE_PATH_SECRET: alphanumeric(40) }) },
    },
  ],
  provider: async () => (await import('./index')).selldone,
  sample: async () => (await import('./sample')).selldoneSample,
  fuzz: async () => (await import('./fuzz')).selldoneFuzz,
  benchFloor: async () => (await import('./bench')).selldoneFloor,
};
