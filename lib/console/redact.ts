/**
 * A logged payload for display. The ingress already stores it without the credentials a provider
 * puts in the body (Provider.logPayload: Hotmart's hottok, …); this takes out anything else whose
 * name says it is a secret, in case a provider adds one: a screenshot of the page must not leak it.
 */

const SECRET_NAME = /secret|password|passwd|hottok|token|signature|authorization|api[-_]?key|private/i;
const MAX_SHOWN = 200_000;

export function redactPayload(payload: Buffer, contentType: string | undefined): { text: string; removed: string[] } {
  const removed = new Set<string>();
  const text = payload.toString('utf8');
  let shown: string;
  try {
    const parsed = JSON.parse(text) as unknown;
    shown = JSON.stringify(redactJson(parsed, removed), null, 2);
  } catch {
    if (/x-www-form-urlencoded/i.test(contentType ?? '') || /^[^\s=&]+=[^\s]*(&|$)/.test(text)) {
      const params = new URLSearchParams(text);
      shown = [...params.entries()]
        .map(([name, value]) => {
          if (SECRET_NAME.test(name)) {
            removed.add(name);
            return `${name}=[removed]`;
          }
          return `${name}=${value}`;
        })
        .join('\n');
    } else {
      shown = text;
    }
  }
  return { text: shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}\n… (${shown.length - MAX_SHOWN} more characters)` : shown, removed: [...removed] };
}

function redactJson(value: unknown, removed: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => redactJson(v, removed));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, v]) => {
      if (SECRET_NAME.test(name) && (typeof v === 'string' || typeof v === 'number')) {
        removed.add(name);
        return [name, '[removed]'];
      }
      return [name, redactJson(v, removed)];
    }),
  );
}
