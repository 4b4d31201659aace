import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Secrets } from '../../../functions/aws/secrets';
import type { Catalog } from '../../../functions/domain/catalog';
import type { FulfillmentEvent, StorefrontName } from '../../../functions/domain/events';
import { sampleClaims, signJwt } from '../../../functions/providers/elements/sample';
import { ELEMENTS_ACTIONS } from '../../../functions/providers/elements/schema';
import { PROVIDER_REGISTRY } from '../../../functions/providers/registry';
import { rawFromSample } from '../apiEvent';
import type { RawRequest } from '../http';
import { ingestInProcess } from '../inProcess';

/**
 * What the fuzzer starts from: the secrets (the same the stack verifies with, plus the private
 * halves a provider would sign with), an attacker's own keys, and a pool of genuine requests —
 * every sample event family of every provider, signed properly — with the canonical events each
 * of them means (computed in-process by the provider's own code).
 */

export interface Base {
  provider: StorefrontName;
  /** e.g. `paddle payment_refunded (GET)`. */
  name: string;
  request: RawRequest;
  /** Canonical keys (see `eventKey`) of the events the genuine request means. */
  genuine: string[];
}

export interface FuzzContext {
  secrets: Record<string, string | undefined>;
  bases: Base[];
  fastspringSecret: string;
  hottok: string;
  selldoneSecret: string;
  paddleKey: KeyObject;
  elements: { offerId: string; key: KeyObject; publicPem: string };
  attacker: { rsa: KeyObject; ec: KeyObject; ecPublicJwk: Record<string, unknown> };
}

/** An event as far as it is the request's meaning: without the arrival time fallback and the ingress' index note. */
export function eventKey(event: FulfillmentEvent): string {
  const { occurredAt: _at, indexed: _indexed, ...meaning } = event as FulfillmentEvent & { indexed?: unknown };
  return canonicalJson(meaning);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const TOKEN_LIFETIME_S = 60 * 60;

export async function fuzzContext(secrets: Record<string, string | undefined>, verify: { secrets: Secrets; catalog: Catalog }): Promise<FuzzContext> {
  const required = (name: string): string => {
    const value = secrets[name];
    if (!value) throw new Error(`${name} is not set: the fuzzer signs like the providers do`);
    return value;
  };
  const elementsKeys = JSON.parse(required('KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS')) as Record<string, string>;
  const offerId = Object.keys(elementsKeys)[0]!;
  const offerPublic = JSON.parse(required('KEYSMITH_ELEMENTS_OFFER_KEYS')) as Record<string, string>;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctx: Omit<FuzzContext, 'bases'> = {
    secrets,
    fastspringSecret: required('KEYSMITH_FASTSPRING_SECRET'),
    hottok: required('KEYSMITH_HOTMART_HOTTOK'),
    selldoneSecret: required('KEYSMITH_SELLDONE_PATH_SECRET'),
    paddleKey: createPrivateKey(unescapePem(required('KEYSMITH_DEV_PADDLE_PRIVATE_KEY'))),
    elements: { offerId, key: createPrivateKey(unescapePem(elementsKeys[offerId]!)), publicPem: offerPublic[offerId] ?? '' },
    attacker: {
      rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      ec: ec.privateKey,
      ecPublicJwk: ec.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
    },
  };

  const requests: { provider: StorefrontName; name: string; request: RawRequest }[] = [];
  for (const registration of PROVIDER_REGISTRY) {
    const builder = await registration.sample();
    for (const event of builder.events) {
      if (registration.name === 'elements') continue; // below, with a longer-lived token
      const sample = builder.build({ secrets, event, email: `fuzz-${registration.name}@example.com` });
      requests.push({ provider: registration.name, name: `${registration.name} ${event}`, request: rawFromSample(sample) });
      if (registration.name === 'paddle' && sample.path === '/webhooks/paddle') {
        // The seller may have chosen GET: the same signed fields in the query string.
        requests.push({ provider: 'paddle', name: `paddle ${event} (GET)`, request: { method: 'GET', target: `${sample.path}?${sample.body.toString('utf8')}`, headers: [], body: Buffer.alloc(0) } });
      }
    }
  }
  for (const action of ELEMENTS_ACTIONS) {
    requests.push({ provider: 'elements', name: `elements ${action}`, request: elementsRequest(ctx, sampleClaims(action, `fuzz-sub-${action}`, 'fuzz-elements@example.com')) });
  }

  const bases: Base[] = [];
  for (const { provider, name, request } of requests) {
    const result = await ingestInProcess(request, verify);
    if (result.answer.status >= 300) throw new Error(`the genuine ${name} request is refused in-process (${result.answer.status}: ${result.answer.body.slice(0, 200)})`);
    bases.push({ provider, name, request, genuine: result.enqueued.map(eventKey) });
  }
  return { ...ctx, bases };
}

/** A Marketplace Elements request: `claims` signed by the offer's key, valid for an hour. */
export function elementsRequest(ctx: Pick<FuzzContext, 'elements'>, claims: Record<string, unknown>, options: { offerId?: string; key?: KeyObject; lifetime?: boolean } = {}): RawRequest {
  const now = Math.floor(Date.now() / 1000);
  const signed = options.lifetime === false ? claims : { ...claims, iat: now, exp: now + TOKEN_LIFETIME_S };
  const token = signJwt(Buffer.from(JSON.stringify(signed)), options.key ?? ctx.elements.key);
  return elementsEnvelope(token, options.offerId ?? ctx.elements.offerId);
}

export function elementsEnvelope(token: string, offerId: string): RawRequest {
  return { method: 'POST', target: `/webhooks/elements/${encodeURIComponent(offerId)}`, headers: [['Content-Type', 'application/json']], body: Buffer.from(JSON.stringify({ payload: token })) };
}

function unescapePem(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
}
