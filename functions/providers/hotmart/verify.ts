import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { matchesAnySecret } from '../shared/crypto';

/** What authentication produced: the raw body, and the JSON document when it had to be read. */
export interface VerifiedHotmart {
  body: Buffer;
  /** Set only when the body had to be parsed to find its `hottok` (header absent). */
  document?: unknown;
}

/**
 * Hotmart sends the account's hottok in `X-HOTMART-HOTTOK` (lower-cased here). It is a plain
 * shared secret — no HMAC, no timestamp — so all there is to do is compare it in constant time,
 * against the current and, during a rotation, the previous value
 * (`KEYSMITH_HOTMART_HOTTOK_PREVIOUS`).
 *
 * v2 payloads may also carry `"hottok"` in the body. It is read only when the header is absent
 * (the header always wins: a wrong header is never rescued by the body). Reading it means parsing
 * the JSON first, but nothing else happens before the comparison: no schema check, no mapping.
 */
export function verifyHotmart(request: WebhookRequest, ctx: ProviderContext): VerifiedHotmart {
  const tokens = ctx.secrets.candidates('KEYSMITH_HOTMART_HOTTOK');
  if (tokens.length === 0) throw new WebhookRejection('NOT_CONFIGURED', 'KEYSMITH_HOTMART_HOTTOK is not set; no request can be verified');

  const header = request.headers['x-hotmart-hottok']?.trim();
  if (header) {
    if (!matchesAnySecret(header, tokens)) throw new WebhookRejection('UNAUTHORIZED', 'X-HOTMART-HOTTOK does not match the configured hottok');
    return { body: request.body };
  }

  const document = readJson(request.body);
  const hottok = isRecord(document) && typeof document.hottok === 'string' ? document.hottok.trim() : '';
  if (!hottok) throw new WebhookRejection('UNAUTHORIZED', 'missing X-HOTMART-HOTTOK header (and no hottok in the body)');
  if (!matchesAnySecret(hottok, tokens)) throw new WebhookRejection('UNAUTHORIZED', 'the hottok in the body does not match the configured hottok');
  return { body: request.body, document };
}

/**
 * The body without any `hottok` member (at any depth), re-serialized; the body as it is when it
 * has none or is not JSON (a body that is not JSON is never logged: parse refuses it).
 */
export function withoutHottok(body: Buffer): Buffer {
  if (!body.includes('hottok')) return body;
  const document = readJson(body);
  if (document === undefined) return body;
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (!isRecord(value)) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key.toLowerCase() !== 'hottok')
        .map(([key, v]) => [key, strip(v)]),
    );
  };
  return Buffer.from(JSON.stringify(strip(document)));
}

function readJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
