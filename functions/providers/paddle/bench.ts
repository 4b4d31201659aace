import { createPublicKey, verify } from 'node:crypto';
import type { BenchFloor } from '../types';
import { phpSerializeSorted } from './php';

/** The benchmark floor: the form decoded, PHP-serialized and its RSA-SHA1 signature checked. */
export const paddleFloor: BenchFloor = (secrets) => {
  const key = createPublicKey(secrets.KEYSMITH_PADDLE_PUBLIC_KEY!.replace(/\\n/g, '\n'));
  return (request) => {
    const fields = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(request.method === 'GET' ? request.rawQuery : request.body.toString('utf8'))) fields.set(k, v);
    const signature = Buffer.from(fields.get('p_signature') ?? '', 'base64');
    fields.delete('p_signature');
    // PHP serialize(ksort(fields)) is what Paddle signs: part of the signature check itself.
    if (!verify('sha1', phpSerializeSorted([...fields]), key, signature)) throw new Error('floor: bad p_signature');
    return fields.size;
  };
};
