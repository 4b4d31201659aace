import { createHmac } from 'node:crypto';
import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';

/** The benchmark floor: HMAC-SHA256 of the body against X-FS-Signature, then JSON.parse. */
export const fastspringFloor: BenchFloor = (secrets) => {
  const secret = secrets.KEYSMITH_FASTSPRING_SECRET!;
  return (request) => {
    const given = Buffer.from(request.headers['x-fs-signature'] ?? '', 'base64');
    if (!sameBytes(given, createHmac('sha256', secret).update(request.body).digest())) throw new Error('floor: bad signature');
    return (JSON.parse(request.body.toString('utf8')) as { events: unknown[] }).events.length;
  };
};
