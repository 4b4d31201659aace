import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The console can revoke licenses, so every request passes four gates before any page runs:
 *
 * 1. Host: exactly `127.0.0.1:PORT` or `localhost:PORT`. A web page on another name that resolves
 *    to 127.0.0.1 (DNS rebinding) sends its own name and is refused (403).
 * 2. Method: GET and HEAD read; POST is the only way to change anything (405 otherwise).
 * 3. Origin (POST only): the console's own origin. A form on another site that posts here is
 *    refused (403) even before the token is looked at — browsers always send Origin on a POST.
 * 4. Token: a random one per launch, in the printed URL; any URL accepts it as `?token=`, which
 *    also sets an HttpOnly, SameSite=Strict cookie so the pages need not carry it. Compared in
 *    constant time. Without it: 401.
 */

export type Verdict = { ok: true; setCookie?: string } | { ok: false; status: 401 | 403 | 405; reason: string };

export class ConsoleSecurity {
  readonly token: string;
  private readonly tokenHash: Buffer;
  private port = 0;

  constructor(token: string = randomBytes(32).toString('base64url')) {
    this.token = token;
    this.tokenHash = hash(token);
  }

  /** Set once the server listens (port 0 picks one). */
  listening(port: number): void {
    this.port = port;
  }

  /** Per port: two consoles on one machine (cookies ignore the port) keep their own. */
  get cookieName(): string {
    return `keysmith_console_${this.port}`;
  }

  get origins(): string[] {
    return [`http://127.0.0.1:${this.port}`, `http://localhost:${this.port}`];
  }

  check(req: IncomingMessage, url: URL): Verdict {
    const host = req.headers.host ?? '';
    if (!this.origins.some((o) => o === `http://${host}`)) return { ok: false, status: 403, reason: `this console answers only to 127.0.0.1:${this.port} or localhost:${this.port}` };
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return { ok: false, status: 405, reason: 'only GET and POST' };
    if (method === 'POST') {
      const origin = req.headers.origin;
      if (!origin || !this.origins.includes(origin)) return { ok: false, status: 403, reason: 'a change must come from a page of this console (Origin)' };
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin') return { ok: false, status: 403, reason: 'a change must come from a page of this console (Sec-Fetch-Site)' };
    }
    const fromQuery = url.searchParams.get('token');
    if (fromQuery !== null && this.matches(fromQuery)) return { ok: true, setCookie: this.cookie() };
    const fromCookie = readCookie(req.headers.cookie, this.cookieName);
    if (fromCookie !== undefined && this.matches(fromCookie)) return { ok: true };
    return { ok: false, status: 401, reason: 'open the URL `keysmith console` printed (it carries this launch’s token)' };
  }

  private matches(candidate: string): boolean {
    return timingSafeEqual(hash(candidate), this.tokenHash);
  }

  private cookie(): string {
    return `${this.cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

/** Compared as SHA-256 digests: equal lengths, so timingSafeEqual leaks nothing, not even the length. */
function hash(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Sent with every answer. The CSP allows only the console's own script and stylesheet (no inline
 * script, no inline style, no other origin), no frames, forms only to itself; the token never
 * leaves in a Referer to another site (`same-origin`, not `no-referrer`: with that, browsers send
 * `Origin: null` on the console's own form posts, and the Origin check could not tell them apart);
 * nothing is cached.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
