import * as z from 'zod/mini';
import '../../domain/zodLocale';
import { WebhookRejection } from '../../ingress/types';

/** Parse a verified body as JSON and check it against a schema; 400 with the first problem otherwise. */
export function parseJson<T extends z.core.$ZodType>(body: Buffer, schema: T): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookRejection('MALFORMED', 'body is not valid JSON');
  }
  return parseWith(schema, json);
}

export function parseWith<T extends z.core.$ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = z.safeParse(schema, value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new WebhookRejection('MALFORMED', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}
/** Milliseconds or seconds since the epoch, or a date string, as ISO 8601; undefined if it is none. */
export function parseTime(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const date = new Date(value < 1e11 ? value * 1000 : value);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) return parseTime(Number(trimmed));
    // "2023-03-11 19:58:09" (Paddle, UTC) → ISO.
    const date = new Date(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(trimmed) ? `${trimmed.replace(' ', 'T')}Z` : trimmed);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  return undefined;
}

/** Like parseTime, with a fallback (usually when the request arrived). */
export function isoTime(value: unknown, fallback: Date): string {
  return parseTime(value) ?? fallback.toISOString();
}
