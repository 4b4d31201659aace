import { createHmac } from 'node:crypto';
import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';
import { SECRET } from './names';

/** The benchmark floor: one HMAC-SHA256 over "{t}.{body}" against the first v1, then JSON.parse. */
export const stripeFloor: BenchFloor = (secrets) => {
  const secret = secrets[SECRET]!;
  return (request) => {
    const header = request.headers['stripe-signature'] ?? '';
    const t = /(?:^|,)t=(\d+)/.exec(header)?.[1] ?? '';
    const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1] ?? '';
    if (!sameBytes(Buffer.from(v1, 'hex'), createHmac('sha256', secret).update(`${t}.`).update(request.body).digest())) throw new Error('floor: bad signature');
    return (JSON.parse(request.body.toString('utf8')) as { type: string }).type.length;
  };
};
