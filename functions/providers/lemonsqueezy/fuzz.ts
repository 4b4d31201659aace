import { createHmac } from 'node:crypto';
import type { FuzzHooks, FuzzRequest } from '../types';

/** The fuzzer's view of Lemon Squeezy (scripts/soak/fuzz): a hex HMAC over the exact body, no timestamp. */

const HEADER = 'x-signature';
const withSignature = (request: FuzzRequest, value: string | null): FuzzRequest => {
  const without = request.headers.filter(([n]) => n.toLowerCase() !== HEADER);
  return { ...request, headers: value === null ? without : [...without, ['X-Signature', value]] };
};
const hmac = (key: string, body: Buffer, algorithm = 'sha256') => createHmac(algorithm, key).update(body).digest();

export const lemonsqueezyFuzz: FuzzHooks = {
  body: 'json',
  classify: (request, base) => {
    if (base?.provider !== 'lemonsqueezy' || !request.body.equals(base.request.body)) return { kind: 'reject', why: 'body is not what was signed' };
    if (request.headers[HEADER] === undefined) return { kind: 'reject', why: 'no X-Signature' };
    return { kind: 'genuine' };
  },
  resign: (request, secrets) => withSignature(request, hmac(secrets.KEYSMITH_LEMONSQUEEZY_SECRET ?? '', request.body).toString('hex')),
  targets: () => ['/webhooks/lemonsqueezy'],
  forged: (base, others, n, junk, { secrets }) => {
    const secret = secrets.KEYSMITH_LEMONSQUEEZY_SECRET ?? '';
    const other = others.length > 0 ? others[n % others.length]! : undefined;
    const variants: [string, string | null][] = [
      ['HMAC with another secret', hmac(`${secret}x`, base.body).toString('hex')],
      ['HMAC of another body', hmac(secret, other ? other.body : Buffer.concat([base.body, Buffer.from(' ')])).toString('hex')],
      ['HMAC as base64', hmac(secret, base.body).toString('base64')],
      ['HMAC truncated to 31 bytes', hmac(secret, base.body).subarray(0, 31).toString('hex')],
      ['HMAC with a non-hex tail', `${hmac(secret, base.body).toString('hex').slice(0, 62)}zz`],
      ['HMAC-SHA1', hmac(secret, base.body, 'sha1').toString('hex')],
      ['empty signature', ''],
      ['junk signature', junk],
      ['no signature header', null],
      ['HMAC keyed with the empty string', hmac('', base.body).toString('hex')],
    ];
    const [label, value] = variants[n % variants.length]!;
    return { label, request: withSignature(base, value) };
  },
};
