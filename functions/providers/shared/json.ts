import type { z } from 'zod';
import { WebhookRejection } from '../../ingress/types';

/** Parse a verified body as JSON and check it against a schema; 400 with the first problem otherwise. */
export function parseJson<T extends z.ZodType>(body: Buffer, schema: T): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookRejection('MALFORMED', 'body is not valid JSON');
  }
  return parseWith(schema, json);
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new WebhookRejection('MALFORMED', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

/** Milliseconds or seconds since the epoch, or an ISO string, as ISO 8601; `fallback` otherwise. */
export function isoTime(value: unknown, fallback: Date): string {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const ms = value < 1e11 ? value * 1000 : value;
    const date = new Date(ms);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const trimmed = value.trim();
    // "2023-03-11 19:58:09" (Paddle, UTC) → ISO.
    const date = new Date(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(trimmed) ? `${trimmed.replace(' ', 'T')}Z` : trimmed);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  return fallback.toISOString();
}
