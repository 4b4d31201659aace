import { generateKeyPairSync } from 'node:crypto';
import type { Secrets } from '../../../functions/aws/secrets';
import type { Catalog } from '../../../functions/domain/catalog';
import type { FulfillmentEvent, ProviderName } from '../../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { FuzzHooks, FuzzKit } from '../../../functions/providers/types';
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
  provider: ProviderName;
  /** e.g. `paddle payment_refunded (GET)`. */
  name: string;
  request: RawRequest;
  /** Canonical keys (see `eventKey`) of the events the genuine request means. */
  genuine: string[];
}

export interface FuzzContext {
  /** The dev secrets, with the private halves a provider would sign with. */
  secrets: Record<string, string | undefined>;
  bases: Base[];
  /** Each provider's own fuzz rules (`functions/providers/<name>/fuzz.ts`). */
  hooks: ReadonlyMap<ProviderName, FuzzHooks>;
  attacker: FuzzKit['attacker'];
}

/**
 * An event as far as it is the request's meaning: without the arrival time fallback and the
 * ingress' notes of what it wrote with the delivery log (`indexed`, `linked`), which depend on
 * whether that best-effort write succeeded, not on the request.
 */
export function eventKey(event: FulfillmentEvent): string {
  const { occurredAt: _at, indexed: _indexed, linked: _linked, ...meaning } = event;
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

/** Genuine requests must stay valid for the whole run (JWTs expire). */
const VALID_FOR_S = 60 * 60;

export async function fuzzContext(secrets: Record<string, string | undefined>, verify: { secrets: Secrets; catalog: Catalog }): Promise<FuzzContext> {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const hooks = new Map<ProviderName, FuzzHooks>();
  for (const registration of WEBHOOK_PROVIDERS) hooks.set(registration.name, await registration.fuzz());
  const attacker = {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    ec: ec.privateKey,
    ecPublicJwk: ec.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };

  // Every sample event of every provider, signed properly.
  const requests: { provider: ProviderName; name: string; request: RawRequest }[] = [];
  for (const registration of WEBHOOK_PROVIDERS) {
    const builder = await registration.sample();
    for (const event of builder.events) {
      const sample = builder.build({ secrets, event, email: `fuzz-${registration.name}@example.com`, validForSeconds: VALID_FOR_S });
      requests.push({ provider: registration.name, name: `${registration.name} ${event}`, request: rawFromSample(sample) });
      const path = sample.path.split('?')[0];
      if (sample.method === 'POST' && registration.routes.some((r) => r.method === 'GET' && r.path === path)) {
        // The route takes GET too (Paddle: the seller's choice): the same signed fields in the query string.
        requests.push({
          provider: registration.name,
          name: `${registration.name} ${event} (GET)`,
          request: { method: 'GET', target: `${sample.path}?${sample.body.toString('utf8')}`, headers: [], body: Buffer.alloc(0) },
        });
      }
    }
  }

  const bases: Base[] = [];
  for (const { provider, name, request } of requests) {
    const result = await ingestInProcess(request, verify);
    if (result.answer.status >= 300) throw new Error(`the genuine ${name} request is refused in-process (${result.answer.status}: ${result.answer.body.slice(0, 200)})`);
    bases.push({ provider, name, request, genuine: result.enqueued.map(eventKey) });
  }
  return { secrets, hooks, attacker, bases };
}
