import { sameBytes } from '../shared/bench';
import type { BenchFloor } from '../types';

/** The benchmark floor: the URL secret compared in constant time, then the form decoded. */
export const gumroadFloor: BenchFloor = (secrets) => {
  const secret = Buffer.from(secrets.KEYSMITH_GUMROAD_PATH_SECRET!);
  return (request) => {
    if (!sameBytes(Buffer.from(request.pathParameters.secret ?? ''), secret)) throw new Error('floor: bad path secret');
    return [...new URLSearchParams(request.body.toString('utf8'))].length;
  };
};
