import { createHmac } from 'node:crypto';
import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';

/** The benchmark floor: the first `v1` HMAC over `{id}.{timestamp}.{body}`, then JSON.parse. */
export const polarFloor: BenchFloor = (secrets) => {
  const key = Buffer.from(secrets.KEYSMITH_POLAR_WEBHOOK_SECRET!, 'utf8');
  return (request) => {
    const id = request.headers['webhook-id'] ?? '';
    const at = request.headers['webhook-timestamp'] ?? '';
    const given = Buffer.from((request.headers['webhook-signature'] ?? '').split(' ')[0]!.replace(/^v1,/, ''), 'base64');
    if (!sameBytes(given, createHmac('sha256', key).update(`${id}.${at}.`).update(request.body).digest())) throw new Error('floor: bad signature');
    return Object.keys((JSON.parse(request.body.toString('utf8')) as { data: object }).data).length;
  };
};
