import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';

/** The benchmark floor: the hottok header compared in constant time, then JSON.parse. */
export const hotmartFloor: BenchFloor = (secrets) => {
  const token = Buffer.from(secrets.KEYSMITH_HOTMART_HOTTOK!);
  return (request) => {
    if (!sameBytes(Buffer.from(request.headers['x-hotmart-hottok'] ?? ''), token)) throw new Error('floor: bad hottok');
    return Object.keys(JSON.parse(request.body.toString('utf8')) as object).length;
  };
};
