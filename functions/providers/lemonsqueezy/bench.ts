import { createHmac } from 'node:crypto';
import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';

/** The benchmark floor: hex HMAC-SHA256 of the body against X-Signature, then JSON.parse. */
export const lemonsqueezyFloor: BenchFloor = (secrets) => {
  const secret = secrets.KEYSMITH_LEMONSQUEEZY_SECRET!;
  return (request) => {
    const given = Buffer.from(request.headers['x-signature'] ?? '', 'hex');
    if (!sameBytes(given, createHmac('sha256', secret).update(request.body).digest())) throw new Error('floor: bad signature');
    return Object.keys((JSON.parse(request.body.toString('utf8')) as { data: object }).data).length;
  };
};
