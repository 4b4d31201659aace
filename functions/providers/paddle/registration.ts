import { secretsFrom } from '../../aws/secrets';
import type { Catalog } from '../../domain/catalog';
import { WebhookRejection } from '../../ingress/types';
import { firstLine, pemKeyPair, publicKeyProblem } from '../shared/secretForms';
import type { KeyCheck, SecretValues, WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';

const LIVE_KEY = 'KEYSMITH_PADDLE_PUBLIC_KEY';
const SANDBOX_KEY = 'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY';
const DEV_PRIVATE_KEY = 'KEYSMITH_DEV_PADDLE_PRIVATE_KEY';
const WHERE = 'the RSA public key from Paddle → Developer Tools → Public Key';

/** Paddle Classic, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const paddleRegistration: WebhookRegistration = {
  name: 'paddle',
  title: 'Paddle Classic',
  routes: [
    { method: 'GET', path: '/webhooks/paddle' },
    { method: 'POST', path: '/webhooks/paddle' },
    { method: 'POST', path: '/webhooks/paddle/alerts' },
  ],
  entry: 'functions/providers/paddle/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: LIVE_KEY,
      kind: 'public-key',
      about: WHERE,
      problem: (value) => publicKeyProblem(value, 'rsa', WHERE),
      tryValue: (values, catalog) => tryKey(LIVE_KEY, values, catalog),
      dev: {
        companions: [DEV_PRIVATE_KEY],
        signsWith: DEV_PRIVATE_KEY,
        generate: () => {
          // Key pairs are generated (and replaced) as pairs, never half; locally the sandbox
          // key is the same dev key, so a new pair replaces it too.
          const pair = pemKeyPair('rsa');
          return { [LIVE_KEY]: pair.publicPem, [SANDBOX_KEY]: pair.publicPem, [DEV_PRIVATE_KEY]: pair.privatePem };
        },
      },
    },
    {
      name: SANDBOX_KEY,
      kind: 'public-key',
      about: `the same, from the Paddle sandbox account (sandbox orders are signed with it)`,
      optionalBecause: 'only Paddle sandbox orders need it',
      problem: (value) => publicKeyProblem(value, 'rsa', WHERE),
      tryValue: (values, catalog) => tryKey(SANDBOX_KEY, values, catalog),
      // Sandbox webhooks are signed with the sandbox key; locally both are the dev key.
      dev: { signsWith: DEV_PRIVATE_KEY, generate: (current) => ({ [SANDBOX_KEY]: current[LIVE_KEY] ?? '' }) },
    },
  ],
  provider: async () => (await import('./index')).paddle,
  sample: async () => (await import('./sample')).paddleSample,
  // The signature is a field of the logged form: replay checks it again, which also says live or sandbox.
  replay: {
    needsSecrets: true,
    rebuild: async () => {
      const { verifyPaddle } = await import('./verify');
      return (request, ctx) => verifyPaddle(request, ctx, MAX_BODY_BYTES);
    },
  },
  fuzz: async () => (await import('./fuzz')).paddleFuzz,
  benchFloor: async () => (await import('./bench')).paddleFloor,
};

/**
 * A Paddle public key, loaded by the Paddle ingress's own verifier. Only this key configured, and
 * a form with a signature no key matches: a usable key ends in UNAUTHORIZED, an unusable one in
 * NOT_CONFIGURED before any signature is checked.
 */
async function tryKey(name: typeof LIVE_KEY | typeof SANDBOX_KEY, values: SecretValues, catalog: Catalog): Promise<KeyCheck> {
  const { verifyPaddle } = await import('./verify');
  const only = name === LIVE_KEY ? { [name]: values[name] } : { [LIVE_KEY]: values[name], [name]: values[name] };
  const request = {
    method: 'POST',
    path: '/webhooks/paddle',
    routeKey: 'POST /webhooks/paddle',
    pathParameters: {},
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawQuery: '',
    body: Buffer.from('p_order_id=doctor&p_signature=AAAA'),
    receivedAt: new Date(),
    requestId: 'doctor',
  };
  try {
    verifyPaddle(request, { secrets: secretsFrom(only), catalog }, MAX_BODY_BYTES);
    return { name, status: 'fail', detail: `${name} accepted a forged signature` };
  } catch (error) {
    if (error instanceof WebhookRejection && error.code === 'UNAUTHORIZED') return { name, status: 'ok', detail: `${name} loads as an RSA public key (Paddle signatures can be checked)` };
    return { name, status: 'fail', detail: `${name} cannot check Paddle signatures: ${firstLine(error)}` };
  }
}
