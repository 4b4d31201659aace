import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { Secrets } from '../../aws/secrets';
import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { parseForm } from './form';
import { phpSerializeSorted } from './php';

/**
 * Paddle Classic signs every fulfillment request and every alert the same way
 * (https://developer.paddle.com/classic/webhooks/verifying-webhooks):
 *
 *   p_signature = base64( RSA-SHA1-PKCS#1v1.5( vendor private key, serialize(ksort(fields − p_signature)) ) )
 *
 * with PHP's `serialize` over the fields as strings (./php.ts). We verify against the vendor public
 * key (Seller Dashboard → Developer Tools → Public Key) and, when set, the sandbox account's key;
 * which one matched says whether the order is live. Nothing but the form decoding runs before the
 * signature is checked.
 */

export type PaddleEndpoint = 'fulfillment' | 'alert';

export interface VerifiedForm {
  /** `/webhooks/paddle` (fulfillment) or `/webhooks/paddle/alerts`. */
  endpoint: PaddleEndpoint;
  /** Every signed field except `p_signature`. */
  fields: Map<string, string>;
  /** Signed with the live key (true) or the sandbox key (false). */
  live: boolean;
}

const LIVE_KEY = 'KEYSMITH_PADDLE_PUBLIC_KEY';
const SANDBOX_KEY = 'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY';

export function verifyPaddle(request: WebhookRequest, ctx: ProviderContext, maxBytes: number): VerifiedForm {
  const text = formText(request, maxBytes);
  const keys = publicKeys(ctx.secrets);
  if (keys.length === 0) throw new WebhookRejection('NOT_CONFIGURED', `${LIVE_KEY} is not set; no request can be verified`);

  const fields = parseForm(text);
  const given = fields.get('p_signature');
  fields.delete('p_signature');
  if (given === undefined || given === '') throw new WebhookRejection('UNAUTHORIZED', 'missing p_signature');
  const signature = decodeSignature(given);
  if (!signature) throw new WebhookRejection('UNAUTHORIZED', 'p_signature is not base64');

  const signed = phpSerializeSorted([...fields]);
  for (const { key, live } of keys) {
    if (rsaSha1Verifies(signed, key, signature)) return { endpoint: endpointOf(request.path), fields, live };
  }
  throw new WebhookRejection('UNAUTHORIZED', `p_signature does not match the fields (checked against ${keys.map((k) => k.name).join(' and ')})`);
}

/** `/webhooks/paddle/alerts` (with or without a stage prefix or trailing slash) is the alerts endpoint. */
export function endpointOf(path: string): PaddleEndpoint {
  return /\/alerts\/?$/.test(path) ? 'alert' : 'fulfillment';
}

/** POST: the form body. GET: the same fields in the query string. */
function formText(request: WebhookRequest, maxBytes: number): string {
  if (request.method === 'GET') {
    if (request.rawQuery.length > maxBytes) throw new WebhookRejection('TOO_LARGE', `query string is ${request.rawQuery.length} bytes; the limit is ${maxBytes}`);
    return request.rawQuery;
  }
  if (request.method === 'POST') return request.body.toString('utf8');
  throw new WebhookRejection('METHOD_NOT_ALLOWED', 'Paddle sends GET or POST');
}

/**
 * Strict base64 (Paddle's `base64_encode`). A space stands for a `+` that reached us unescaped
 * (form decoding turns a raw `+` into a space); it can never be part of valid base64, so putting
 * it back cannot make a wrong signature pass.
 */
function decodeSignature(value: string): Buffer | undefined {
  const text = value.replace(/ /g, '+').replace(/[\r\n]/g, '');
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function rsaSha1Verifies(data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify('sha1', data, key, signature);
  } catch {
    return false;
  }
}

interface PublicKey {
  name: string;
  key: KeyObject;
  live: boolean;
}

/** Parsed keys by PEM text: parsed once per process, re-parsed only when the secret changes. */
const parsed = new Map<string, KeyObject>();

function publicKeys(secrets: Secrets): PublicKey[] {
  const keys: PublicKey[] = [];
  for (const [name, live] of [
    [LIVE_KEY, true],
    [SANDBOX_KEY, false],
  ] as const) {
    const pem = secrets.get(name);
    if (pem) keys.push({ name, key: parsePublicKey(name, pem), live });
  }
  return keys;
}

function parsePublicKey(name: string, pem: string): KeyObject {
  const cached = parsed.get(pem);
  if (cached) return cached;
  let key: KeyObject;
  try {
    // Env files carry PEM with literal `\n` escapes; Secrets Manager with real newlines.
    key = createPublicKey(unescapePem(pem));
  } catch {
    throw new WebhookRejection('NOT_CONFIGURED', `${name} is not a PEM public key (copy it from Paddle → Developer Tools → Public Key)`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new WebhookRejection('NOT_CONFIGURED', `${name} is not an RSA public key`);
  parsed.set(pem, key);
  return key;
}

/** PEM text with literal `\n` escapes (dotenv, CI variables) turned into line breaks. */
export function unescapePem(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\r\\n|\\n/g, '\n').trim() : pem.trim();
}
