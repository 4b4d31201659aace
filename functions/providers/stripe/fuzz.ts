import { createHmac } from 'node:crypto';
import type { FuzzHooks, FuzzRequest } from '../types';
import { SECRET } from './names';
import { DEFAULT_TOLERANCE_SECONDS, parseSignatureHeader } from './verify';

/** The fuzzer's view of Stripe (scripts/soak/fuzz): an HMAC over "{t}.{body}", t within 300 s. */

const HEADER = 'stripe-signature';
const withSignature = (request: FuzzRequest, value: string | null): FuzzRequest => {
  const without = request.headers.filter(([n]) => n.toLowerCase() !== HEADER);
  return { ...request, headers: value === null ? without : [...without, ['Stripe-Signature', value]] };
};
const sign = (secret: string, t: number, body: Buffer) => createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
const now = () => Math.floor(Date.now() / 1000);

export const stripeFuzz: FuzzHooks = {
  body: 'json',
  classify: (request, base) => {
    if (base?.provider !== 'stripe' || !request.body.equals(base.request.body)) return { kind: 'reject', why: 'body is not what was signed' };
    const header = request.headers[HEADER];
    const parsed = header === undefined ? undefined : parseSignatureHeader(header);
    if (!parsed) return { kind: 'reject', why: 'no usable Stripe-Signature' };
    // A base replayed for longer than the tolerance has gone stale (margin: the ingress's clock is read a moment later).
    if (Math.abs(now() - parsed.timestamp) > DEFAULT_TOLERANCE_SECONDS - 5) return { kind: 'reject', why: 'signature timestamp outside the tolerance' };
    return { kind: 'genuine' };
  },
  resign: (request, secrets) => {
    const t = now();
    return withSignature(request, `t=${t},v1=${sign(secrets[SECRET] ?? '', t, request.body)}`);
  },
  targets: () => ['/webhooks/stripe'],
  forged: (base, others, n, junk, { secrets }) => {
    const secret = secrets[SECRET] ?? '';
    const t = now();
    const other = others.length > 0 ? others[n % others.length]! : undefined;
    const right = sign(secret, t, base.body);
    const variants: [string, string | null][] = [
      ['v1 with another secret', `t=${t},v1=${sign(`${secret}x`, t, base.body)}`],
      ['v1 of another body', `t=${t},v1=${sign(secret, t, other ? other.body : Buffer.concat([base.body, Buffer.from(' ')]))}`],
      ['v1 over the body without "{t}."', `t=${t},v1=${createHmac('sha256', secret).update(base.body).digest('hex')}`],
      ['v1 for another t', `t=${t - 1},v1=${right}`],
      ['stale: t 10 minutes old', `t=${t - 600},v1=${sign(secret, t - 600, base.body)}`],
      ['t 10 minutes ahead', `t=${t + 600},v1=${sign(secret, t + 600, base.body)}`],
      ['only v0', `t=${t},v0=${right}`],
      ['no t', `v1=${right}`],
      ['two t values', `t=${t - 600},t=${t},v1=${right}`],
      ['v1 truncated', `t=${t},v1=${right.slice(0, 32)}`],
      ['junk header', junk],
      ['no header', null],
    ];
    const [label, value] = variants[n % variants.length]!;
    return { label, request: withSignature(base, value) };
  },
};
