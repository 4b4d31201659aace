import type { IncomingMessage } from 'node:http';
import { escapeHtml, html, raw } from '../../../lib/console/html';
import { redactPayload } from '../../../lib/console/redact';
import { ConsoleSecurity } from '../../../lib/console/security';

describe('html templates escape by default', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const name = `<img src=x onerror="alert(1)"> & 'x' \`y\``;
    const out = html`<p title="${name}">${name}</p>`.text;
    expect(out).toBe(`<p title="${escapeHtml(name)}">${escapeHtml(name)}</p>`);
    expect(out).not.toContain('<img');
    expect(out).not.toMatch(/"alert/);
  });

  it('nests templates without escaping them twice, and leaves out null, undefined and false', () => {
    const inner = html`<b>${'a<b'}</b>`;
    expect(html`<div>${inner}${[html`<i>1</i>`, '<2>']}${null}${undefined}${false}${0}</div>`.text).toBe('<div><b>a&lt;b</b><i>1</i>&lt;2&gt;0</div>');
    expect(html`${raw('<hr>')}`.text).toBe('<hr>');
  });
});

describe('payloads for display', () => {
  it('removes fields whose name says secret, in JSON and in forms', () => {
    const json = redactPayload(Buffer.from(JSON.stringify({ order: 'A1', hottok: 'h', nested: [{ apiKey: 'k', email: 'a@example.com' }] })), 'application/json');
    expect(JSON.parse(json.text)).toEqual({ order: 'A1', hottok: '[removed]', nested: [{ apiKey: '[removed]', email: 'a@example.com' }] });
    expect(json.removed.sort()).toEqual(['apiKey', 'hottok']);
    const form = redactPayload(Buffer.from('p_order_id=7&p_signature=abc%3D&email=a%40example.com'), 'application/x-www-form-urlencoded');
    expect(form.text).toBe('p_order_id=7\np_signature=[removed]\nemail=a@example.com');
  });
});

describe('console security gates', () => {
  const security = new ConsoleSecurity('the-token');
  security.listening(4321);
  const req = (headers: Record<string, string>, method = 'GET') => ({ method, headers }) as unknown as IncomingMessage;
  const url = (path: string) => new URL(path, 'http://127.0.0.1:4321');
  const own = { host: '127.0.0.1:4321' };

  it('refuses a foreign Host before anything else, and any method but GET, HEAD and POST', () => {
    expect(security.check(req({ host: 'rebound.example:4321' }), url('/?token=the-token'))).toMatchObject({ ok: false, status: 403 });
    expect(security.check(req({ host: 'localhost:4321' }), url('/?token=the-token'))).toMatchObject({ ok: true });
    expect(security.check(req(own, 'PUT'), url('/?token=the-token'))).toMatchObject({ ok: false, status: 405 });
  });

  it('takes the token from the query (setting the cookie) or from the cookie; else 401', () => {
    const fromQuery = security.check(req(own), url('/deliveries?token=the-token'));
    expect(fromQuery).toEqual({ ok: true, setCookie: 'keysmith_console_4321=the-token; HttpOnly; SameSite=Strict; Path=/' });
    expect(security.check(req({ ...own, cookie: 'other=1; keysmith_console_4321=the-token' }), url('/'))).toEqual({ ok: true });
    expect(security.check(req(own), url('/'))).toMatchObject({ ok: false, status: 401 });
    expect(security.check(req(own), url('/?token=the-token2'))).toMatchObject({ ok: false, status: 401 });
    expect(security.check(req({ ...own, cookie: 'keysmith_console_9999=the-token' }), url('/'))).toMatchObject({ ok: false, status: 401 });
  });

  it('accepts a POST only from its own origin, whatever the token', () => {
    const post = (headers: Record<string, string>) => security.check(req({ ...own, ...headers }, 'POST'), url('/dlq/redrive?token=the-token'));
    expect(post({ origin: 'http://127.0.0.1:4321', 'sec-fetch-site': 'same-origin' })).toMatchObject({ ok: true });
    expect(post({ origin: 'http://localhost:4321' })).toMatchObject({ ok: true });
    expect(post({})).toMatchObject({ ok: false, status: 403 });
    expect(post({ origin: 'null' })).toMatchObject({ ok: false, status: 403 });
    expect(post({ origin: 'http://evil.example' })).toMatchObject({ ok: false, status: 403 });
    expect(post({ origin: 'http://127.0.0.1:4321', 'sec-fetch-site': 'cross-site' })).toMatchObject({ ok: false, status: 403 });
  });
});
