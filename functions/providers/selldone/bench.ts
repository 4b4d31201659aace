import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';

/** The benchmark floor: the URL secret compared in constant time, then JSON.parse. */
export const selldoneFloor: BenchFloor = (secrets) => {
  const secret = Buffer.from(secrets.KEYSMITH_SELLDONE_PATH_SECRET!);
  return (request) => {
    if (!sameBytes(Buffer.from(request.pathParameters.secret ?? ''), secret)) throw new Error('floor: bad path secret');
    return Object.keys(JSON.parse(request.body.toString('utf8')) as object).length;
  };
};
