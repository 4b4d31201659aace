import type { FuzzHooks } from '../types';

/** The fuzzer's view of Selldone (scripts/soak/fuzz): the URL carries the secret, the body is not signed. */

const swapCase = (s: string): string => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');

export const selldoneFuzz: FuzzHooks = {
  body: 'json',
  classify: (request, _base, secrets) => (request.pathParameters.secret === secrets.KEYSMITH_SELLDONE_PATH_SECRET ? { kind: 'authentic' } : { kind: 'reject', why: 'wrong URL secret' }),
  targets: (secrets) => [`/webhooks/selldone/${secrets.KEYSMITH_SELLDONE_PATH_SECRET ?? ''}`, '/webhooks/selldone/not-the-secret-0123456789012345678901234567'],
  forged: (base, _others, n, junk, { secrets }) => {
    const secret = secrets.KEYSMITH_SELLDONE_PATH_SECRET ?? '';
    const variants = [secret.slice(0, -1), `${secret}0`, swapCase(secret), junk.replace(/[^A-Za-z0-9]/g, 'a'), secret.slice(0, 31), 'a'.repeat(40)];
    const variant = variants[n % variants.length]!;
    return { label: `URL secret variant ${n % variants.length}`, request: { ...base, target: `/webhooks/selldone/${encodeURIComponent(variant)}` }, expect: 'classify' };
  },
};
