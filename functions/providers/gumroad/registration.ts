import { alphanumeric, pathSecretProblem } from '../shared/secretForms';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES, MIN_PATH_SECRET_LENGTH } from './constants';

/** Gumroad, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const gumroadRegistration: WebhookRegistration = {
  name: 'gumroad',
  title: 'Gumroad',
  routes: [{ method: 'POST', path: '/webhooks/gumroad/{secret}' }],
  entry: 'functions/providers/gumroad/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: 'KEYSMITH_GUMROAD_PATH_SECRET',
      kind: 'path-secret',
      about: `the last path segment of the Ping / resource subscription URL you give Gumroad (≥ ${MIN_PATH_SECRET_LENGTH} URL-safe characters)`,
      rotatable: true,
      problem: (value) => pathSecretProblem(value, MIN_PATH_SECRET_LENGTH, 'Gumroad'),
      dev: { generate: () => ({ KEYSMITH_GUMROAD_PATH_SECRET: alphanumeric(40) }) },
    },
  ],
  provider: async () => (await import('./index')).gumroad,
  sample: async () => (await import('./sample')).gumroadSample,
  // Replay: the URL secret is not logged (only the route); the logged body is what verify returned (the default).
  fuzz: async () => (await import('./fuzz')).gumroadFuzz,
  benchFloor: async () => (await import('./bench')).gumroadFloor,
};
