import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { BenchFloor } from '../types';

/** The benchmark floor: the offer's key verifies the JWT's signature, then the claims are parsed. */
export const elementsFloor: BenchFloor = (secrets) => {
  const keys = JSON.parse(secrets.KEYSMITH_ELEMENTS_OFFER_KEYS!) as Record<string, string>;
  const parsed = new Map<string, KeyObject>(Object.entries(keys).map(([offer, pem]) => [offer, createPublicKey(pem.replace(/\\n/g, '\n'))]));
  return (request) => {
    const token = (JSON.parse(request.body.toString('utf8')) as { payload: string }).payload;
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg: string }).alg;
    const key = parsed.get(request.pathParameters.offerId ?? '')!;
    const ok = verify(`sha${alg.slice(2)}`, Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
    if (!ok) throw new Error('floor: bad JWT signature');
    return Object.keys(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object).length;
  };
};
