import { createHmac } from 'node:crypto';
import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';
import { SANDBOX_SECRET, SECRET } from './names';

/** The benchmark floor: one HMAC-SHA256 over "{ts}:{body}" against the first h1, then JSON.parse. */
export const paddleBillingFloor: BenchFloor = (secrets) => {
  const secret = secrets[SANDBOX_SECRET] ?? secrets[SECRET]!;
  return (request) => {
    const header = request.headers['paddle-signature'] ?? '';
    const ts = /(?:^|;)ts=(\d+)/.exec(header)?.[1] ?? '';
    const h1 = /(?:^|;)h1=([0-9a-f]{64})/.exec(header)?.[1] ?? '';
    if (!sameBytes(Buffer.from(h1, 'hex'), createHmac('sha256', secret).update(`${ts}:`).update(request.body).digest())) throw new Error('floor: bad signature');
    return (JSON.parse(request.body.toString('utf8')) as { event_type: string }).event_type.length;
  };
};
