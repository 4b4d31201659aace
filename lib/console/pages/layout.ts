import type { Target } from '../../cli/target';
import { type Html, html } from '../html';

/** What a route answers: a page, or (after a POST) a redirect carrying a one-time message. */
export type Answer =
  | { kind: 'page'; title: string; body: Html; status?: number; nav?: NavKey }
  | { kind: 'redirect'; location: string; flash?: Flash }
  | { kind: 'text'; status: number; type: string; body: string; filename?: string };

export interface Flash {
  ok: boolean;
  text: string;
}

export type NavKey = 'overview' | 'search' | 'deliveries' | 'dlq' | 'licenses';

export interface RequestContext {
  target: Target;
  url: URL;
  /** A POST's form fields. */
  form: URLSearchParams;
  /** Path parameters, decoded. */
  params: string[];
  now: Date;
}

const NAV: [NavKey, string, string][] = [
  ['overview', '/', 'Overview'],
  ['deliveries', '/deliveries', 'Deliveries'],
  ['dlq', '/dlq', 'Dead letters'],
  ['licenses', '/licenses', 'Licenses'],
];

export function layout(target: Target, answer: Extract<Answer, { kind: 'page' }>, flash: Flash | undefined, q = ''): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${answer.title} · keysmith console</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body>
<header>
<a class="brand" href="/">keysmith</a>
${NAV.map(([key, href, label]) => html`<a href="${href}"${answer.nav === key ? html` class="current" aria-current="page"` : ''}>${label}</a>`)}
<form action="/search" method="get" role="search"><input type="search" name="q" value="${q}" placeholder="email, order id, license key or license id" aria-label="Search"><button type="submit">Search</button></form>
<div class="target">${target.label}</div>
</header>
<main>
${flash ? html`<div class="flash ${flash.ok ? 'ok' : 'error'}" role="status">${flash.text}</div>` : ''}
${answer.body}
</main>
</body>
</html>`;
}

export function badge(word: string, extra = ''): Html {
  return html`<span class="badge ${word.replace(/[^a-z-]/g, '')} ${extra}">${word}</span>`;
}

/** `2024-05-01T10:00:00.000Z` → `2024-05-01 10:00:00` (UTC), in a <time> element. */
export function time(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  const short = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso;
  return html`<time datetime="${iso}">${short}</time>`;
}

export function orderHref(provider: string, scope: string): string {
  return `/order/${encodeURIComponent(provider)}/${encodeURIComponent(scope)}`;
}

export function notFoundPage(text: string): Answer {
  return { kind: 'page', status: 404, title: 'Not found', body: html`<h1>Not found</h1><p>${text}</p>` };
}
