/**
 * Structured JSON logs, one line per entry. A log line can be pasted into a support ticket:
 *
 * - customer emails are masked wherever they appear in a logged value (`j***@g***.com`);
 * - fields named like secrets or license keys are dropped (`[redacted]`), whatever their value;
 * - values that *look* like a license key (`XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`), a signed license or
 *   any other compact JWS/JWT, or a PEM private key are replaced wherever they appear — also
 *   inside an error message or a free-text field whose name gave nothing away.
 *
 * Provider secrets (HMAC secrets, tokens) have no recognizable shape; they are kept out by never
 * logging headers, bodies or secret-named fields. `test/unit/log/` runs the real pipeline and
 * worker and checks every line.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
// Unicode local parts and domains too (`ünï@exämple.de`); the TLD keeps the mask readable.
/**
 * An address as RFC 5322 allows it, generously: a quoted local part (`"john doe"@…`, which may
 * hold `@` and spaces) or a dot-atom with every atext character (`o'brien`, `a+tag`, `a/b=c`,
 * any letter or digit of any script); a domain literal (`[192.0.2.1]`, `[IPv6:…]`) or labels of
 * letters, digits, marks and hyphens (also a dotless `localhost`). Over-matching only masks more.
 */
const EMAIL = /("(?:[^"\\\r\n]|\\.)*"|[\p{L}\p{N}\p{M}!#$%&'*+/=?^_`{|}~.-]+)@(\[[^\]\s]*\]|[\p{L}\p{N}\p{M}-]+(?:\.[\p{L}\p{N}\p{M}-]+)*)/gu;
/** A derived license key: 5 groups of 5 Crockford base32 characters (see domain/licenses.ts). */
const LICENSE_KEY = /(?<![0-9A-Za-z])[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}(?![0-9A-Za-z])/g;
/** A compact JWS/JWT: base64url JSON header (`eyJ` = `{"`), payload, signature. */
const JWS = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const FORBIDDEN_FIELD = /secret|password|passphrase|hottok|signature|token|^keys?$|licenseKey|privateKey|signingKey|apiKey|authorization|cookie|credential/i;

/**
 * `john.doe@gmail.com` → `j***@g***.com`: the first character of each part and the top-level
 * label survive, enough to tell two customers apart in a log, never enough to write to them.
 * `"john doe"@x.org` → `"***@x***.org`; `user@[192.0.2.1]` → `u***@[***]`; `root@localhost` →
 * `r***@l***`.
 */
export function maskEmail(text: string): string {
  return text.includes('@') ? text.replace(EMAIL, (_m, local: string, domain: string) => `${firstChar(local)}***@${maskDomain(domain)}`) : text;
}

function firstChar(part: string): string {
  // A whole code point: the first letter of `ünïcode` or of an astral-plane name.
  return String.fromCodePoint(part.codePointAt(0)!);
}

function maskDomain(domain: string): string {
  if (domain.startsWith('[')) return '[***]';
  const dot = domain.lastIndexOf('.');
  // The top-level label is kept when it is a real one (not digits of an IP-like name).
  const tld = dot > 0 && /^\.[\p{L}][\p{L}\p{N}-]*$/u.test(domain.slice(dot)) ? domain.slice(dot) : '';
  return `${firstChar(domain)}***${tld}`;
}

/**
 * Mask emails and blank out license keys, signed tokens and private keys in free text. Each
 * pattern runs only when a cheap test says it could match: most log strings are ids.
 */
export function scrub(text: string): string {
  let out = maskEmail(text);
  if (out.length >= 29 && out.includes('-')) out = out.replace(LICENSE_KEY, '[license key]');
  if (out.includes('eyJ')) out = out.replace(JWS, '[signed token]');
  if (out.includes('PRIVATE KEY')) out = out.replace(PEM_PRIVATE_KEY, '[private key]');
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: scrub(value.message), ...(typeof code === 'string' ? { code } : {}) };
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  // Never the bytes of a body: their length is all a log needs.
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = FORBIDDEN_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

export function createLogger(
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  minLevel: LogLevel = (process.env.KEYSMITH_LOG_LEVEL as LogLevel | undefined) ?? 'info',
): Logger {
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < (LEVELS[minLevel] ?? 20)) return;
    write(JSON.stringify({ level, time: new Date().toISOString(), message: scrub(message), ...(redact({ ...base, ...fields }) as object) }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const logger: Logger = createLogger();
