import fc from 'fast-check';
import type { ProviderName } from '../../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { FuzzHooks } from '../../../functions/providers/types';
import { routeRequest } from '../apiEvent';
import type { RawRequest } from '../http';
import type { Base, FuzzContext } from './context';

/**
 * Fuzz cases: a request, and what the gateway may do with it (its `Expectation`), decided by how
 * the case was built — never by running the code under test.
 *
 * The oracle in three verdicts (./oracle.ts checks them):
 *  - `reject`: nobody holding the provider's secret made this request (forged or missing
 *    signature, wrong token, random bytes, a JWT attack) or it must be refused anyway (over the
 *    size limit, no route). Required: a 4xx, and nothing enqueued.
 *  - `genuine`: a genuinely signed request, changed somewhere the signature does not decide
 *    (a header's name case, a duplicated signature header, another content type, re-ordered or
 *    re-encoded form fields that decode to the same signed fields, the envelope around a JWT).
 *    It may be refused or accepted, but whatever is enqueued must be exactly an event of the
 *    genuine request: an event the signer never said is a forgery.
 *  - `authentic`: the sender holds the secret — a request re-signed after its content was fuzzed,
 *    or a token-authenticated provider (Hotmart's hottok header, Selldone's URL secret: neither
 *    signs the body) with the right token. Anything may be enqueued; only a 5xx is wrong.
 * Every verdict also forbids an answer ≥ 500: hostile input is never the gateway's failure.
 *
 * How a changed request is classified (`classify`): FastSpring signs the body bytes, so a changed
 * body is `reject`, and so is a missing `X-FS-Signature`; with the body intact and the header
 * present (in any case, duplicated, or even altered — base64 decoding ignores trailing junk, which
 * cannot make another body pass) it is `genuine`. Paddle signs the decoded form fields: without a
 * `p_signature` it is `reject`, otherwise `genuine` (if the fields changed, the signature no longer
 * matches, and anything enqueued would differ from the genuine events). Elements signs the JWT:
 * another offer in the URL is `reject`, otherwise `genuine`. Hotmart is `authentic` exactly when
 * the hottok header (trimmed; the body's `hottok` only when the header is absent or blank) equals
 * the secret; Selldone when the `{secret}` path parameter equals it.
 */

export type Expectation = { kind: 'reject'; why: string } | { kind: 'genuine'; events: string[] } | { kind: 'authentic' };

export const FAMILIES = ['random-bytes', 'body-bytes', 'structure', 'resigned', 'headers', 'route', 'forged', 'jwt', 'size'] as const;
export type Family = (typeof FAMILIES)[number];

export interface FuzzCase {
  family: Family;
  /** What was done, for the report and for reproducing a failure. */
  label: string;
  /** The genuine request it started from. */
  base?: string;
  request: RawRequest;
  expect: Expectation;
  /** Over the API's payload limit: the server may close the connection instead of answering. */
  oversize?: boolean;
}

export interface CaseOptions {
  /** Only cases whose route belongs to one of these (route-less random cases are dropped). */
  providers?: readonly ProviderName[];
  /** Cases over the API Gateway payload limit (10 MiB): only meaningful over HTTP. @default false */
  apiLimit?: boolean;
  /** Only these families. @default all */
  families?: readonly Family[];
}

const reject = (why: string): Expectation => ({ kind: 'reject', why });
const AUTHENTIC: Expectation = { kind: 'authentic' };

// ---- the verdict of a changed request --------------------------------------------------------

export function classify(ctx: FuzzContext, request: RawRequest, base: Base | undefined): Expectation {
  const routed = routeRequest(request);
  if (routed.kind === 'none') return reject(`no route (${routed.status})`);
  const r = routed.request;
  const genuine = (): Expectation => ({ kind: 'genuine', events: base!.genuine });
  // Each provider's own rule (its `fuzz.ts`): signature over these bytes, token, URL secret.
  const verdict = hooksOf(ctx, routed.provider).classify(r, base ? { provider: base.provider, request: base.request } : undefined, ctx.secrets);
  return verdict.kind === 'genuine' ? genuine() : verdict.kind === 'authentic' ? AUTHENTIC : reject(verdict.why);
}

function hooksOf(ctx: FuzzContext, provider: ProviderName): FuzzHooks {
  const hooks = ctx.hooks.get(provider);
  if (!hooks) throw new Error(`no fuzz hooks for provider ${provider}`);
  return hooks;
}

// ---- building blocks ---------------------------------------------------------------------

const frac = fc.nat();
const at = (n: number, length: number): number => (length === 0 ? 0 : n % (length + 1));

type BytesOp =
  | { op: 'flip'; bits: [number, number][] }
  | { op: 'truncate'; at: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'overwrite'; at: number; bytes: Uint8Array }
  | { op: 'repeat'; at: number; length: number };

const bytesOp: fc.Arbitrary<BytesOp> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), bits: fc.array(fc.tuple(frac, fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: frac }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('insert' as const), at: frac, bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ op: fc.constant('delete' as const), at: frac, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('overwrite' as const), at: frac, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: frac, length: fc.integer({ min: 1, max: 256 }) }),
);

function applyBytes(body: Buffer, op: BytesOp): Buffer {
  const n = body.length;
  switch (op.op) {
    case 'flip': {
      const out = Buffer.from(body);
      if (n === 0) return Buffer.from([1 << op.bits[0]![1]]);
      for (const [pos, bit] of op.bits) out[pos % n] = out[pos % n]! ^ (1 << bit);
      return out;
    }
    case 'truncate':
      return body.subarray(0, n === 0 ? 0 : op.at % n);
    case 'append':
      return Buffer.concat([body, op.bytes]);
    case 'insert': {
      const i = at(op.at, n);
      return Buffer.concat([body.subarray(0, i), op.bytes, body.subarray(i)]);
    }
    case 'delete': {
      const i = at(op.at, n);
      return Buffer.concat([body.subarray(0, i), body.subarray(i + op.length)]);
    }
    case 'overwrite': {
      const out = Buffer.from(body);
      const i = at(op.at, n);
      Buffer.from(op.bytes).copy(out, Math.min(i, Math.max(0, n - 1)));
      return n === 0 ? Buffer.from(op.bytes) : out;
    }
    case 'repeat': {
      const i = at(op.at, n);
      return Buffer.concat([body.subarray(0, i), body.subarray(i, i + op.length), body.subarray(i)]);
    }
  }
}

const describeBytes = (op: BytesOp): string =>
  op.op === 'flip' ? `flip ${op.bits.length} bit(s)` : op.op === 'append' || op.op === 'insert' || op.op === 'overwrite' ? `${op.op} ${op.bytes.length} byte(s)` : op.op;

/** Values that upset parsers: wrong types, limits, odd strings, prototypes. */
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, -0, 1.5, 1e21, 1e308, -1e308, 2 ** 53 + 1, 10_001, 4294967296),
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-1',
    '1e309',
    '0x10',
    '2026-13-45T99:99:99Z',
    '<script>alert(1)</script>',
    '\u0000',
    '\ud800',
    '__proto__',
    'constructor',
    'toString',
    'a@b',
    '../../etc/passwd',
    '%00',
    '\r\nX-Injected: 1',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map((n) => 'x'.repeat(Math.abs(n) % 70_000)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<unknown>([], {}, [null], [{}], { id: null }),
);

type JsonOp =
  | { op: 'delete'; path: number }
  | { op: 'replace'; path: number; value: unknown }
  | { op: 'add'; path: number; key: string; value: unknown }
  | { op: 'wrap'; path: number }
  | { op: 'stringify'; path: number }
  | { op: 'deep'; path: number; depth: number }
  | { op: 'many'; path: number; count: number }
  | { op: 'text'; text: 'bom' | 'trailing' | 'duplicate-key' | 'comment' | 'single-quotes' | 'nan' };

const jsonOp: fc.Arbitrary<JsonOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), path: frac }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('replace' as const), path: frac, value: nastyValue }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      path: frac,
      key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'hottok', 'events', 'id', ''), fc.string({ maxLength: 12 })),
      value: nastyValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), path: frac }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stringify' as const), path: frac }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deep' as const), path: frac, depth: fc.integer({ min: 50, max: 20_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('many' as const), path: frac, count: fc.integer({ min: 2, max: 600 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('text' as const), text: fc.constantFrom('bom', 'trailing', 'duplicate-key', 'comment', 'single-quotes', 'nan') }) },
);

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (out.length > 2000) return out;
  if (Array.isArray(value)) value.forEach((v, i) => void paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const k of Object.keys(value)) paths((value as Record<string, unknown>)[k], [...prefix, k], out);
  return out;
}

const DEEP = '"\u0000keysmith-deep\u0000"';

/** Applies a structural change to a JSON text; returns the new text (maybe not JSON any more). */
function applyJson(text: string, op: JsonOp): string {
  if (op.op === 'text') {
    switch (op.text) {
      case 'bom':
        return `\ufeff${text}`;
      case 'trailing':
        return `${text},`;
      case 'duplicate-key':
        return text.replace(/^\s*\{/, '{"events":[],"payload":"","event":"x",');
      case 'comment':
        return text.replace(/^\s*\{/, '{/* c */');
      case 'single-quotes':
        return text.replace(/"/g, "'");
      case 'nan':
        return text.replace(/:\s*(-?\d+(\.\d+)?)/, ':NaN');
    }
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return `${text}}`;
  }
  const all = paths(root);
  const path = all[op.path % all.length]!;
  const wrapper = { root } as Record<string, unknown>;
  const fullPath: Path = ['root', ...path];
  const parent = fullPath.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], wrapper) as Record<string | number, unknown>;
  const key = fullPath[fullPath.length - 1]!;
  const current = parent[key];
  let deep: number | undefined;
  switch (op.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case 'replace':
      parent[key] = op.value;
      break;
    case 'add':
      if (current && typeof current === 'object' && !Array.isArray(current)) Object.defineProperty(current, op.key, { value: op.value, enumerable: true, writable: true, configurable: true });
      else parent[key] = { [op.key]: op.value };
      break;
    case 'wrap':
      parent[key] = [current];
      break;
    case 'stringify':
      parent[key] = JSON.stringify(current) ?? 'undefined';
      break;
    case 'deep':
      parent[key] = DEEP;
      deep = op.depth;
      break;
    case 'many':
      parent[key] = Array.from({ length: op.count }, () => current);
      break;
  }
  const out = JSON.stringify(wrapper.root) ?? '';
  return deep === undefined ? out : out.replace(JSON.stringify(DEEP.slice(1, -1)), '['.repeat(deep) + ']'.repeat(deep));
}

const describeJson = (op: JsonOp): string => (op.op === 'text' ? `json ${op.text}` : op.op === 'replace' || op.op === 'add' ? `json ${op.op} ${typeof op.value}` : `json ${op.op}`);

type FormOp =
  | { op: 'delete'; field: number }
  | { op: 'set'; field: number; value: string }
  | { op: 'add'; name: string; value: string }
  | { op: 'duplicate'; field: number; same: boolean; first: boolean }
  | { op: 'reorder'; seed: number }
  | { op: 'rename'; field: number }
  | { op: 'raw-plus' }
  | { op: 'lower-escapes' }
  | { op: 'empty-pairs' };

const formOp: fc.Arbitrary<FormOp> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), field: frac }),
  fc.record({
    op: fc.constant('set' as const),
    field: frac,
    value: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '0', '-1', '1e9', 'a'.repeat(70_000), '\u0000', 'NaN', '2026-99-99 99:99:99')),
  }),
  fc.record({
    op: fc.constant('add' as const),
    name: fc.oneof(fc.constantFrom('p_quantity', 'p_order_id', 'alert_name', '__proto__', 'constructor', 'p_signature', 'passthrough'), fc.string({ maxLength: 10 })),
    value: fc.string({ maxLength: 20 }),
  }),
  fc.record({ op: fc.constant('duplicate' as const), field: frac, same: fc.boolean(), first: fc.boolean() }),
  fc.record({ op: fc.constant('reorder' as const), seed: fc.nat() }),
  fc.record({ op: fc.constant('rename' as const), field: frac }),
  fc.constant({ op: 'raw-plus' as const }),
  fc.constant({ op: 'lower-escapes' as const }),
  fc.constant({ op: 'empty-pairs' as const }),
);

function applyForm(text: string, op: FormOp): string {
  const fields = [...new URLSearchParams(text)];
  const pick = (n: number) => n % Math.max(1, fields.length);
  switch (op.op) {
    case 'delete':
      fields.splice(pick(op.field), 1);
      break;
    case 'set':
      if (fields.length > 0) fields[pick(op.field)] = [fields[pick(op.field)]![0], op.value];
      break;
    case 'add':
      fields.push([op.name, op.value]);
      break;
    case 'duplicate': {
      const field = fields[pick(op.field)];
      if (field) {
        const copy: [string, string] = [field[0], op.same ? field[1] : `${field[1]}x`];
        if (op.first) fields.unshift(copy);
        else fields.push(copy);
      }
      break;
    }
    case 'reorder': {
      let s = op.seed;
      for (let i = fields.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) % 2147483648;
        const j = s % (i + 1);
        [fields[i], fields[j]] = [fields[j]!, fields[i]!];
      }
      break;
    }
    case 'rename':
      if (fields.length > 0) fields[pick(op.field)] = [fields[pick(op.field)]![0].toUpperCase(), fields[pick(op.field)]![1]];
      break;
    case 'raw-plus':
      return text.replace(/%2B/gi, '+');
    case 'lower-escapes':
      return text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    case 'empty-pairs':
      return `&&${text.replace(/&/g, '&&')}&`;
  }
  return new URLSearchParams(fields).toString();
}

const describeForm = (op: FormOp): string => `form ${op.op}`;

// ---- header and route changes ---------------------------------------------------------------

type HeaderOp =
  | { op: 'remove'; which: number }
  | { op: 'duplicate'; which: number; junk: string | null; before: boolean }
  | { op: 'case'; which: number; style: 'upper' | 'lower' | 'mixed' }
  | { op: 'content-type'; value: string | null }
  | { op: 'value'; which: number; change: BytesOp }
  | { op: 'pad'; which: number; left: string; right: string }
  | { op: 'add'; name: string; value: string };

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=latin1',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=UTF-8',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/jsonp',
  '*/*',
  ';',
  'application/json, text/plain',
];

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);

const headerOp: fc.Arbitrary<HeaderOp> = fc.oneof(
  fc.record({ op: fc.constant('remove' as const), which: frac }),
  fc.record({ op: fc.constant('duplicate' as const), which: frac, junk: fc.option(headerValue, { nil: null }), before: fc.boolean() }),
  fc.record({ op: fc.constant('case' as const), which: frac, style: fc.constantFrom('upper' as const, 'lower' as const, 'mixed' as const) }),
  fc.record({ op: fc.constant('content-type' as const), value: fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue), { nil: null }) }),
  fc.record({ op: fc.constant('value' as const), which: frac, change: bytesOp }),
  fc.record({ op: fc.constant('pad' as const), which: frac, left: fc.constantFrom('', ' ', '\t'), right: fc.constantFrom('', ' ', '\t', ',') }),
  fc.record({
    op: fc.constant('add' as const),
    name: fc.oneof(token, fc.constantFrom('X-FS-Signature', 'X-HOTMART-HOTTOK', 'Transfer-Encoding-X', 'Cookie', 'X-Forwarded-For', 'Authorization')),
    value: headerValue,
  }),
);

const HEADER_VALUE_OK = /^[\t\x20-\x7e]*$/;

function applyHeader(headers: [string, string][], op: HeaderOp): [string, string][] {
  const out = headers.map(([n, v]) => [n, v] as [string, string]);
  const i = (n: number) => n % Math.max(1, out.length);
  switch (op.op) {
    case 'remove':
      out.splice(i(op.which), 1);
      break;
    case 'duplicate': {
      const h = out[i(op.which)];
      if (h) out.splice(op.before ? i(op.which) : i(op.which) + 1, 0, [h[0], op.junk ?? h[1]]);
      break;
    }
    case 'case': {
      const h = out[i(op.which)];
      if (h) h[0] = op.style === 'upper' ? h[0].toUpperCase() : op.style === 'lower' ? h[0].toLowerCase() : [...h[0]].map((c, k) => (k % 2 ? c.toUpperCase() : c.toLowerCase())).join('');
      break;
    }
    case 'content-type': {
      const rest = out.filter(([n]) => n.toLowerCase() !== 'content-type');
      return op.value === null ? rest : [...rest, ['Content-Type', op.value]];
    }
    case 'value': {
      const h = out[i(op.which)];
      if (h) {
        const changed = applyBytes(Buffer.from(h[1], 'latin1'), op.change).toString('latin1');
        if (HEADER_VALUE_OK.test(changed)) h[1] = changed;
      }
      break;
    }
    case 'pad': {
      const h = out[i(op.which)];
      if (h) h[1] = `${op.left}${h[1]}${op.right}`;
      break;
    }
    case 'add':
      out.push([op.name, op.value]);
      break;
  }
  return out;
}

const describeHeader = (op: HeaderOp): string => (op.op === 'content-type' ? `content-type ${op.value === null ? 'removed' : JSON.stringify(op.value)}` : `header ${op.op}`);

type RouteOp =
  | { op: 'path'; variant: 'trailing-slash' | 'double-slash' | 'upper' | 'extra-segment' | 'drop-segment' | 'query' | 'encode-char' | 'dot-segment' }
  | { op: 'method'; method: string }
  | { op: 'param'; variant: 'flip-case' | 'drop-last' | 'append' | 'other' | 'encoded-slash' | 'space'; n: number };

const routeOp: fc.Arbitrary<RouteOp> = fc.oneof(
  fc.record({
    op: fc.constant('path' as const),
    variant: fc.constantFrom(
      'trailing-slash' as const,
      'double-slash' as const,
      'upper' as const,
      'extra-segment' as const,
      'drop-segment' as const,
      'query' as const,
      'encode-char' as const,
      'dot-segment' as const,
    ),
  }),
  fc.record({ op: fc.constant('method' as const), method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') }),
  fc.record({
    op: fc.constant('param' as const),
    variant: fc.constantFrom('flip-case' as const, 'drop-last' as const, 'append' as const, 'other' as const, 'encoded-slash' as const, 'space' as const),
    n: fc.nat(),
  }),
);

function applyRoute(req: RawRequest, op: RouteOp): RawRequest {
  const cut = req.target.indexOf('?');
  const path = cut < 0 ? req.target : req.target.slice(0, cut);
  const query = cut < 0 ? '' : req.target.slice(cut);
  const withPath = (p: string): RawRequest => ({ ...req, target: `${p}${query}` });
  switch (op.op) {
    case 'method':
      return { ...req, method: op.method, body: op.method === 'HEAD' ? Buffer.alloc(0) : req.body };
    case 'path':
      switch (op.variant) {
        case 'trailing-slash':
          return withPath(`${path}/`);
        case 'double-slash':
          return withPath(`/${path}`);
        case 'upper':
          return withPath(path.toUpperCase());
        case 'extra-segment':
          return withPath(`${path}/extra`);
        case 'drop-segment':
          return withPath(path.split('/').slice(0, -1).join('/') || '/');
        case 'query':
          return { ...req, target: `${path}${query ? `${query}&` : '?'}p_signature=x&alert_name=y` };
        case 'encode-char': {
          const k = path.lastIndexOf('/') + 1;
          return path.length > k ? withPath(`${path.slice(0, k)}%${path.charCodeAt(k).toString(16).toUpperCase()}${path.slice(k + 1)}`) : withPath(path);
        }
        case 'dot-segment':
          return withPath(path.replace('/webhooks/', '/webhooks/./'));
      }
      break;
    case 'param': {
      const segments = path.split('/');
      const last = segments[segments.length - 1] ?? '';
      if (segments.length < 4) return withPath(`${path}/${last}`);
      const k = last.length === 0 ? 0 : op.n % last.length;
      const variants = {
        'flip-case': last.slice(0, k) + (last[k] === last[k]?.toUpperCase() ? (last[k] ?? '').toLowerCase() : (last[k] ?? '').toUpperCase()) + last.slice(k + 1),
        'drop-last': last.slice(0, -1),
        append: `${last}0`,
        other: `x${String(op.n).padStart(last.length - 1, '7')}`.slice(0, Math.max(1, last.length)),
        'encoded-slash': `${last}%2F..`,
        space: `${last}%20`,
      };
      segments[segments.length - 1] = variants[op.variant];
      return withPath(segments.join('/'));
    }
  }
  return req;
}

const describeRoute = (op: RouteOp): string => (op.op === 'method' ? `method ${op.method}` : `${op.op} ${op.variant}`);

// ---- signing again (the sender holds the secret) -----------------------------------------------

function resign(ctx: FuzzContext, provider: ProviderName, req: RawRequest): RawRequest {
  return hooksOf(ctx, provider).resign?.(req, ctx.secrets) ?? req;
}

// ---- the families ------------------------------------------------------------------------------

function basesOf(ctx: FuzzContext, options: CaseOptions): Base[] {
  const bases = options.providers ? ctx.bases.filter((b) => options.providers!.includes(b.provider)) : ctx.bases;
  if (bases.length === 0) throw new Error('no genuine requests to start from');
  return bases;
}

function contentKind(ctx: FuzzContext, base: Base): 'json' | 'form' {
  return hooksOf(ctx, base.provider).body === 'form' ? 'form' : 'json';
}

/** The body a structural change works on: the form (POST body or GET query), else the JSON body. */
function structural(base: Base, change: (text: string) => string): RawRequest {
  const req = base.request;
  if (req.method === 'GET') {
    const cut = req.target.indexOf('?');
    return { ...req, target: `${req.target.slice(0, cut)}?${change(req.target.slice(cut + 1))}` };
  }
  return { ...req, body: Buffer.from(change(req.body.toString('utf8'))) };
}

/** Elements: the JWT's claims text, for structural changes and re-signing. */
function claimsText(base: Base): string {
  const token = (JSON.parse(base.request.body.toString('utf8')) as { payload: string }).payload;
  return Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8');
}

export function fuzzCases(ctx: FuzzContext, options: CaseOptions = {}): fc.Arbitrary<FuzzCase> {
  const bases = basesOf(ctx, options);
  const base = fc.constantFrom(...bases);
  const make = (family: Family, label: string, b: Base | undefined, request: RawRequest, expect?: Expectation): FuzzCase => ({
    family,
    label,
    ...(b ? { base: b.name } : {}),
    request,
    expect: expect ?? classify(ctx, request, b),
  });
  const providers = [...new Set(bases.map((b) => b.provider))];
  const canResign = (provider: ProviderName): boolean => hooksOf(ctx, provider).resign !== undefined;

  const randomBytes = fc
    .record({
      target: randomTarget(ctx, providers, options),
      method: fc.oneof({ weight: 9, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT') }),
      contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: null }),
      body: fc.oneof(
        fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
        fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
        fc.string({ maxLength: 300 }).map((s) => Buffer.from(s)),
      ),
      extra: fc.option(fc.tuple(fc.constantFrom('X-FS-Signature', 'X-HOTMART-HOTTOK', 'x-hotmart-hottok'), headerValue), { nil: null }),
    })
    .map(({ target, method, contentType, body, extra }) => {
      const headers: [string, string][] = [];
      if (contentType !== null) headers.push(['Content-Type', contentType]);
      if (extra) headers.push(extra);
      const req: RawRequest = { method, target, headers, body: method === 'GET' ? Buffer.alloc(0) : body };
      return make('random-bytes', `${method} random ${body.length} bytes${extra ? ` + ${extra[0]}` : ''}`, undefined, req);
    });

  const bodyBytes = fc.tuple(base, fc.array(bytesOp, { minLength: 1, maxLength: 3 })).map(([b, ops]) => {
    const req = ops.reduce((r, op) => structuralBytes(r, (body) => applyBytes(body, op)), b.request);
    return make('body-bytes', ops.map(describeBytes).join(', '), b, req);
  });

  const structure = fc.tuple(base, jsonOp, formOp).map(([b, json, form]) => {
    if (hooksOf(ctx, b.provider).body === 'jwt') {
      // The envelope around the JWT (the token itself is the signed part).
      const req = { ...b.request, body: Buffer.from(applyJson(b.request.body.toString('utf8'), json)) };
      return make('structure', `envelope ${describeJson(json)}`, b, req);
    }
    const req = contentKind(ctx, b) === 'form' ? structural(b, (t) => applyForm(t, form)) : structural(b, (t) => applyJson(t, json));
    return make('structure', contentKind(ctx, b) === 'form' ? describeForm(form) : describeJson(json), b, req);
  });

  const resigned = fc
    .tuple(
      base.filter((b) => canResign(b.provider)),
      fc.oneof({ weight: 5, arbitrary: jsonOp.map((op) => ({ json: op })) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ bytes })) }),
      formOp,
    )
    .map(([b, change, form]) => {
      let req: RawRequest;
      let label: string;
      const kind = hooksOf(ctx, b.provider).body;
      if (kind === 'jwt') {
        const text = 'json' in change ? applyJson(claimsText(b), change.json) : Buffer.from(change.bytes).toString('latin1');
        req = resign(ctx, b.provider, { ...b.request, body: Buffer.from(text, 'json' in change ? 'utf8' : 'latin1') });
        label = `claims ${'json' in change ? describeJson(change.json) : `random ${change.bytes.length} bytes`}, re-signed`;
      } else if (kind === 'form') {
        req = resign(
          ctx,
          b.provider,
          structural(b, (t) => applyForm(t, form)),
        );
        label = `${describeForm(form)}, re-signed`;
      } else {
        req = 'json' in change ? structural(b, (t) => applyJson(t, change.json)) : { ...b.request, body: Buffer.from(change.bytes) };
        req = resign(ctx, b.provider, req);
        label = `${'json' in change ? describeJson(change.json) : `random ${change.bytes.length} bytes`}, re-signed`;
      }
      return make('resigned', label, b, req, AUTHENTIC);
    });
  // When there is nothing to re-sign for (providers without a signature), fall back to structure.
  const resignedOrStructure = providers.some(canResign) ? resigned : structure;

  const headers = fc.tuple(base, fc.array(headerOp, { minLength: 1, maxLength: 3 }), fc.option(bytesOp, { nil: null, freq: 4 })).map(([b, ops, bytes]) => {
    let req: RawRequest = { ...b.request, headers: ops.reduce((h, op) => applyHeader(h, op), b.request.headers) };
    if (bytes) req = structuralBytes(req, (body) => applyBytes(body, bytes));
    return make('headers', [...ops.map(describeHeader), ...(bytes ? [describeBytes(bytes)] : [])].join(', '), b, req);
  });

  const route = fc.tuple(base, routeOp).map(([b, op]) => make('route', describeRoute(op), b, applyRoute(b.request, op)));

  const forged = fc
    .tuple(
      base,
      fc.nat(),
      fc.string({ minLength: 1, maxLength: 60 }).filter((s) => HEADER_VALUE_OK.test(s)),
    )
    .map(([b, n, junk]) => forge(ctx, b, n, junk, bases));

  // The JWT attacks: the forgeries of providers whose requests are JWTs.
  const jwtBases = bases.filter((b) => hooksOf(ctx, b.provider).body === 'jwt');
  const jwt = jwtBases.length > 0 ? fc.tuple(fc.constantFrom(...jwtBases), fc.nat()).map(([b, n]) => ({ ...forge(ctx, b, n, '', bases), family: 'jwt' as const })) : forged;

  const size = fc.tuple(base, fc.boolean(), fc.nat()).map(([b, over, n]) => sizeCase(ctx, b, over, n, options));

  const weighted: [Family, number, fc.Arbitrary<FuzzCase>][] = [
    ['random-bytes', 10, randomBytes],
    ['body-bytes', 18, bodyBytes],
    ['structure', 14, structure],
    ['resigned', 16, resignedOrStructure],
    ['headers', 14, headers],
    ['route', 10, route],
    ['forged', 10, forged],
    ['jwt', 6, jwt],
    ['size', 2, size],
  ];
  const chosen = weighted.filter(([family]) => !options.families || options.families.includes(family));
  if (chosen.length === 0) throw new Error('no fuzz family chosen');
  return fc.oneof(...chosen.map(([, weight, arbitrary]) => ({ weight, arbitrary })));
}

/** Changes the signed content: the body, or for a GET the query string. */
function structuralBytes(req: RawRequest, change: (body: Buffer) => Buffer): RawRequest {
  if (req.method !== 'GET') return { ...req, body: change(req.body) };
  const cut = req.target.indexOf('?');
  const query = change(Buffer.from(cut < 0 ? '' : req.target.slice(cut + 1), 'latin1')).toString('latin1');
  // A request target cannot carry every byte: percent-encode what HTTP would refuse.
  const safe = query.replace(/[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`).replace(/#/g, '%23');
  return { ...req, target: `${cut < 0 ? req.target : req.target.slice(0, cut)}?${safe}` };
}

function randomTarget(ctx: FuzzContext, providers: ProviderName[], options: CaseOptions): fc.Arbitrary<string> {
  const targets = providers.flatMap((p) => hooksOf(ctx, p).targets(ctx.secrets));
  const known = fc.constantFrom(...targets);
  if (options.providers) return known;
  return fc.oneof({ weight: 9, arbitrary: known }, { weight: 1, arbitrary: fc.stringMatching(/^\/[A-Za-z0-9/._~-]{0,40}$/) });
}

/** Signatures and tokens made without the secret (each provider's own list, its `fuzz.ts`): refused unless `classify` says otherwise. */
function forge(ctx: FuzzContext, b: Base, n: number, junk: string, bases: Base[]): FuzzCase {
  const others = bases.filter((o) => o.provider === b.provider && o !== b).map((o) => o.request);
  const { label, request, expect } = hooksOf(ctx, b.provider).forged(b.request, others, n, junk, { secrets: ctx.secrets, attacker: ctx.attacker });
  return { family: 'forged', label, base: b.name, request, expect: expect === 'classify' ? classify(ctx, request, b) : reject(label) };
}

/** Bodies at and over each provider's limit (signed where the provider signs), and over the API's. */
const LIMITS: ReadonlyMap<ProviderName, number> = new Map(WEBHOOK_PROVIDERS.map((r) => [r.name, r.http.maxBodyBytes]));
const API_LIMIT = 10 * 1024 * 1024;

function sizeCase(ctx: FuzzContext, b: Base, over: boolean, n: number, options: CaseOptions): FuzzCase {
  if (options.apiLimit && n % 50 === 0) {
    const request: RawRequest = { ...b.request, method: 'POST', body: Buffer.alloc(API_LIMIT + 1, 0x20) };
    return { family: 'size', label: 'over the API payload limit', base: b.name, request, expect: reject('over the API payload limit'), oversize: true };
  }
  const limit = LIMITS.get(b.provider);
  if (limit === undefined) throw new Error(`no body limit registered for ${b.provider}`);
  const kind = hooksOf(ctx, b.provider).body;
  const size = over ? limit + 1 + (n % 3) * 1000 : limit - (n % 2);
  let request: RawRequest;
  if (kind === 'form') {
    const get = b.request.method === 'GET';
    const text = get ? b.request.target.slice(b.request.target.indexOf('?') + 1) : b.request.body.toString('utf8');
    // Empty pairs (`&&&`) decode to nothing: the signed fields stay exactly the same.
    const padded = text + '&'.repeat(Math.max(0, size - text.length));
    request = get ? { ...b.request, target: `${b.request.target.slice(0, b.request.target.indexOf('?'))}?${padded}` } : { ...b.request, body: Buffer.from(padded) };
  } else {
    // JSON allows whitespace after the document.
    const body = b.request.body;
    request = { ...b.request, body: Buffer.concat([body, Buffer.alloc(Math.max(0, size - body.length), 0x20)]) };
    // A signature over the body is made again over the padded one (a JWT's claims are unchanged).
    if (kind === 'json') request = resign(ctx, b.provider, request);
  }
  const label = `${over ? 'over' : 'at'} the ${b.provider} limit (${size} bytes)`;
  if (over) return { family: 'size', label, base: b.name, request, expect: reject('over the size limit') };
  return { family: 'size', label, base: b.name, request, expect: kind === 'jwt' ? classify(ctx, request, b) : AUTHENTIC };
}
