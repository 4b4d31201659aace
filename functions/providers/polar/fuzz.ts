import { createHmac, randomUUID } from 'node:crypto';
import type { FuzzHooks, FuzzRequest } from '../types';
import { POLAR_TOLERANCE_SECONDS } from './constants';

/**
 * The fuzzer's view of Polar (scripts/soak/fuzz): Standard Webhooks, an HMAC over
 * `{webhook-id}.{webhook-timestamp}.{body}` keyed with the UTF-8 bytes of the shown secret.
 */

const SIGNED_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];

function signedRequest(request: FuzzRequest, key: Buffer, options: { id?: string; at?: number; format?: (mac: Buffer) => string; body?: Buffer } = {}): FuzzRequest {
  const id = options.id ?? randomUUID();
  const at = String(options.at ?? Math.floor(Date.now() / 1000));
  const mac = createHmac('sha256', key)
    .update(`${id}.${at}.`)
    .update(options.body ?? request.body)
    .digest();
  const signature = options.format ? options.format(mac) : `v1,${mac.toString('base64')}`;
  const headers = request.headers.filter(([n]) => !SIGNED_HEADERS.includes(n.toLowerCase()));
  return { ...request, headers: [...headers, ['webhook-id', id], ['webhook-timestamp', at], ['webhook-signature', signature]] };
}

export const polarFuzz: FuzzHooks = {
  body: 'json',
  classify: (request, base) => {
    if (base?.provider !== 'polar' || !request.body.equals(base.request.body)) return { kind: 'reject', why: 'body is not what was signed' };
    for (const name of SIGNED_HEADERS) if (request.headers[name] === undefined) return { kind: 'reject', why: `no ${name}` };
    return { kind: 'genuine' };
  },
  resign: (request, secrets) => signedRequest(request, Buffer.from(secrets.KEYSMITH_POLAR_WEBHOOK_SECRET ?? '', 'utf8')),
  targets: () => ['/webhooks/polar'],
  forged: (base, others, n, junk, { secrets }) => {
    const secret = secrets.KEYSMITH_POLAR_WEBHOOK_SECRET ?? '';
    const key = Buffer.from(secret, 'utf8');
    const now = Math.floor(Date.now() / 1000);
    const other = others.length > 0 ? others[n % others.length]! : undefined;
    const variants: [string, FuzzRequest][] = [
      // The textbook Standard Webhooks reading of the secret, which Polar does not use.
      ['key: whsec_ stripped and base64-decoded', signedRequest(base, Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))],
      ['another secret', signedRequest(base, Buffer.from(`${secret}x`, 'utf8'))],
      ['signature of another body', signedRequest(base, key, { body: other ? other.body : Buffer.concat([base.body, Buffer.from(' ')]) })],
      ['stale: correctly signed, timestamp past the tolerance', signedRequest(base, key, { at: now - POLAR_TOLERANCE_SECONDS - 120 })],
      ['future: correctly signed, timestamp past the tolerance', signedRequest(base, key, { at: now + POLAR_TOLERANCE_SECONDS + 120 })],
      ['signature version v1a', signedRequest(base, key, { format: (mac) => `v1a,${mac.toString('base64')}` })],
      ['signature as hex', signedRequest(base, key, { format: (mac) => `v1,${mac.toString('hex')}` })],
      ['signature without its version', signedRequest(base, key, { format: (mac) => mac.toString('base64') })],
      ['junk signature', signedRequest(base, key, { format: () => `v1,${junk}` })],
      ['no signature headers', { ...base, headers: base.headers.filter(([h]) => !SIGNED_HEADERS.includes(h.toLowerCase())) }],
    ];
    const [label, request] = variants[n % variants.length]!;
    return { label, request };
  },
};
