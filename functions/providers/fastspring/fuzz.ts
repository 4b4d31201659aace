import { createHmac } from 'node:crypto';
import type { FuzzHooks, FuzzRequest } from '../types';

/** The fuzzer's view of FastSpring (scripts/soak/fuzz): an HMAC over the exact body. */

const HEADER = 'x-fs-signature';
const withSignature = (request: FuzzRequest, value: string | null): FuzzRequest => {
  const without = request.headers.filter(([n]) => n.toLowerCase() !== HEADER);
  return { ...request, headers: value === null ? without : [...without, ['X-FS-Signature', value]] };
};

export const fastspringFuzz: FuzzHooks = {
  body: 'json',
  classify: (request, base) => {
    if (base?.provider !== 'fastspring' || !request.body.equals(base.request.body)) return { kind: 'reject', why: 'body is not what was signed' };
    if (request.headers[HEADER] === undefined) return { kind: 'reject', why: 'no X-FS-Signature' };
    return { kind: 'genuine' };
  },
  resign: (request, secrets) =>
    withSignature(
      request,
      createHmac('sha256', secrets.KEYSMITH_FASTSPRING_SECRET ?? '')
        .update(request.body)
        .digest('base64'),
    ),
  targets: () => ['/webhooks/fastspring'],
  forged: (base, others, n, junk, { secrets }) => {
    const secret = secrets.KEYSMITH_FASTSPRING_SECRET ?? '';
    const other = others.length > 0 ? others[n % others.length]! : undefined;
    const hmac = (key: string, body: Buffer, algorithm = 'sha256') => createHmac(algorithm, key).update(body).digest();
    const variants: [string, string | null][] = [
      ['HMAC with another secret', hmac(`${secret}x`, base.body).toString('base64')],
      ['HMAC of another body', hmac(secret, other ? other.body : Buffer.concat([base.body, Buffer.from(' ')])).toString('base64')],
      ['HMAC as hex', hmac(secret, base.body).toString('hex')],
      ['HMAC truncated to 16 bytes', hmac(secret, base.body).subarray(0, 16).toString('base64')],
      ['HMAC-SHA1', hmac(secret, base.body, 'sha1').toString('base64')],
      ['empty signature', ''],
      ['junk signature', junk],
      ['no signature header', null],
      ['HMAC keyed with the empty string', hmac('', base.body).toString('base64')],
    ];
    const [label, value] = variants[n % variants.length]!;
    return { label, request: withSignature(base, value) };
  },
};
