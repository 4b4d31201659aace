import { createHmac } from 'node:crypto';
import type { FuzzHooks, FuzzRequest } from '../types';
import { SANDBOX_SECRET, SECRET } from './names';
import { DEFAULT_TOLERANCE_SECONDS, parseSignatureHeader } from './verify';

/** The fuzzer's view of Paddle Billing (scripts/soak/fuzz): an HMAC over "{ts}:{body}", ts within 300 s. */

const HEADER = 'paddle-signature';
const withSignature = (request: FuzzRequest, value: string | null): FuzzRequest => {
  const without = request.headers.filter(([n]) => n.toLowerCase() !== HEADER);
  return { ...request, headers: value === null ? without : [...without, ['Paddle-Signature', value]] };
};
const sign = (secret: string, ts: number, body: Buffer) => createHmac('sha256', secret).update(`${ts}:`).update(body).digest('hex');
const now = () => Math.floor(Date.now() / 1000);
/** The secret the samples sign with: the sandbox one when set (as sample.ts does). */
const signingSecret = (secrets: Record<string, string | undefined>) => secrets[SANDBOX_SECRET] ?? secrets[SECRET] ?? '';

export const paddleBillingFuzz: FuzzHooks = {
  body: 'json',
  classify: (request, base) => {
    if (base?.provider !== 'paddle-billing' || !request.body.equals(base.request.body)) return { kind: 'reject', why: 'body is not what was signed' };
    const header = request.headers[HEADER];
    const parsed = header === undefined ? undefined : parseSignatureHeader(header);
    if (!parsed) return { kind: 'reject', why: 'no usable Paddle-Signature' };
    if (Math.abs(now() - parsed.timestamp) > DEFAULT_TOLERANCE_SECONDS - 5) return { kind: 'reject', why: 'signature timestamp outside the tolerance' };
    return { kind: 'genuine' };
  },
  resign: (request, secrets) => {
    const ts = now();
    return withSignature(request, `ts=${ts};h1=${sign(signingSecret(secrets), ts, request.body)}`);
  },
  targets: () => ['/webhooks/paddle-billing'],
  forged: (base, others, n, junk, { secrets }) => {
    const secret = signingSecret(secrets);
    const ts = now();
    const other = others.length > 0 ? others[n % others.length]! : undefined;
    const right = sign(secret, ts, base.body);
    const variants: [string, string | null][] = [
      ['h1 with another secret', `ts=${ts};h1=${sign(`${secret}x`, ts, base.body)}`],
      ['h1 of another body', `ts=${ts};h1=${sign(secret, ts, other ? other.body : Buffer.concat([base.body, Buffer.from(' ')]))}`],
      ['h1 over the body without "{ts}:"', `ts=${ts};h1=${createHmac('sha256', secret).update(base.body).digest('hex')}`],
      ['h1 with Stripe’s "." separator', `ts=${ts};h1=${createHmac('sha256', secret).update(`${ts}.`).update(base.body).digest('hex')}`],
      ['h1 for another ts', `ts=${ts - 1};h1=${right}`],
      ['stale: ts 10 minutes old', `ts=${ts - 600};h1=${sign(secret, ts - 600, base.body)}`],
      ['ts 10 minutes ahead', `ts=${ts + 600};h1=${sign(secret, ts + 600, base.body)}`],
      ['Stripe’s "," between the parts', `ts=${ts},h1=${right}`],
      ['no ts', `h1=${right}`],
      ['h1 truncated', `ts=${ts};h1=${right.slice(0, 32)}`],
      ['junk header', junk],
      ['no header', null],
    ];
    const [label, value] = variants[n % variants.length]!;
    return { label, request: withSignature(base, value) };
  },
};
