/**
 * Structured JSON logs, one line per entry. Customer emails are masked wherever they appear in a
 * logged value, and fields named like secrets or license keys are dropped — a log line can be
 * pasted into a support ticket.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-])[A-Za-z0-9.-]*(\.[A-Za-z]{2,})/g;
const FORBIDDEN_FIELD = /secret|password|hottok|signature|token|^key$|licenseKey|privateKey|authorization/i;

/** `john.doe@gmail.com` → `j***@g***.com`. */
export function maskEmail(text: string): string {
  return text.replace(EMAIL, (_m, first: string, domainFirst: string, tld: string) => `${first}***@${domainFirst}***${tld}`);
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') return maskEmail(value);
  if (value instanceof Error) return { name: value.name, message: maskEmail(value.message) };
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = FORBIDDEN_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1);
    return out;
  }
  return value;
}

export function createLogger(
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  minLevel: LogLevel = (process.env.KEYSMITH_LOG_LEVEL as LogLevel | undefined) ?? 'info',
): Logger {
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < (LEVELS[minLevel] ?? 20)) return;
    write(JSON.stringify({ level, time: new Date().toISOString(), message: maskEmail(message), ...(redact({ ...base, ...fields }) as object) }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const logger: Logger = createLogger();
