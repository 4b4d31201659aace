import type { FuzzHooks, FuzzRequest } from '../types';

/** The fuzzer's view of Hotmart (scripts/soak/fuzz): a shared token, no signature over the body. */

export const hotmartFuzz: FuzzHooks = {
  body: 'json',
  classify: (request, _base, secrets) => (hottokOk(request.headers, request.body, secrets.KEYSMITH_HOTMART_HOTTOK ?? '') ? { kind: 'authentic' } : { kind: 'reject', why: 'wrong or missing hottok' }),
  targets: () => ['/webhooks/hotmart'],
  forged: (base, _others, n, junk, { secrets }) => {
    const hottok = secrets.KEYSMITH_HOTMART_HOTTOK ?? '';
    const without = base.headers.filter(([h]) => h.toLowerCase() !== 'x-hotmart-hottok');
    const body = (value: string) => Buffer.from(JSON.stringify({ ...(JSON.parse(base.body.toString('utf8')) as Record<string, unknown>), hottok: value }));
    const variants: [string, FuzzRequest][] = [
      ['random hottok', { ...base, headers: [...without, ['X-HOTMART-HOTTOK', junk]] }],
      ['hottok prefix', { ...base, headers: [...without, ['X-HOTMART-HOTTOK', hottok.slice(0, -1)]] }],
      ['hottok with a suffix', { ...base, headers: [...without, ['X-HOTMART-HOTTOK', `${hottok}x`]] }],
      ['hottok in another case', { ...base, headers: [...without, ['X-HOTMART-HOTTOK', swapCase(hottok)]] }],
      ['hottok twice (joined by a comma)', { ...base, headers: [...without, ['X-HOTMART-HOTTOK', hottok], ['x-hotmart-hottok', hottok]] }],
      ['wrong header, right hottok in the body', { ...base, headers: [...without, ['X-HOTMART-HOTTOK', junk]], body: body(hottok) }],
      ['no header, wrong hottok in the body', { ...base, headers: without, body: body(junk) }],
      ['no header, no hottok', { ...base, headers: without }],
      ['no header, right hottok in the body', { ...base, headers: without, body: body(hottok) }],
    ];
    const [label, request] = variants[n % variants.length]!;
    // Some variants are genuinely authentic (the body's hottok counts without a header).
    return { label, request, expect: 'classify' };
  },
};

/** Hotmart's rule as documented: the header (trimmed) decides; the body's `hottok` only without it. */
function hottokOk(headers: Record<string, string>, body: Buffer, hottok: string): boolean {
  const header = headers['x-hotmart-hottok']?.trim();
  if (header) return header === hottok;
  try {
    const doc = JSON.parse(body.toString('utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && typeof (doc as { hottok?: unknown }).hottok === 'string' && (doc as { hottok: string }).hottok.trim() === hottok;
  } catch {
    return false;
  }
}

function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
}
