/**
 * The console's only stylesheet and script, served from /static/ (the CSP allows nothing else).
 * Kept as strings in the source so they ship inside the CLI bundle: no CDN, no build step, no
 * file lookup. The script is progressive: every page works without it.
 */

export const CONSOLE_CSS = `
:root { --fg: #1d2330; --muted: #667085; --line: #e2e5ea; --bg: #f7f8fa; --accent: #3b6fd8; --bad: #c0392b; --warn: #b7791f; --ok: #2f855a; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 18px; padding: 10px 20px; background: #1d2330; color: #fff; flex-wrap: wrap; }
header a { color: #cfd8ea; text-decoration: none; }
header a.current, header a:hover { color: #fff; text-decoration: underline; }
header .brand { font-weight: 700; color: #fff; }
header form { margin-left: auto; display: flex; gap: 6px; }
header input[type=search] { width: 320px; padding: 5px 8px; border-radius: 4px; border: 0; }
header .target { font-size: 12px; color: #9aa6bd; width: 100%; }
main { padding: 16px 20px 40px; max-width: 1280px; }
h1 { font-size: 20px; margin: 6px 0 14px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef0f4; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; }
td.nowrap, td.nowrap code { white-space: nowrap; word-break: normal; }
.toolbar { margin: 0 0 10px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; word-break: break-all; }
pre { background: #fff; border: 1px solid var(--line); padding: 10px; overflow: auto; max-height: 420px; font-size: 12.5px; white-space: pre-wrap; word-break: break-all; }
.muted { color: var(--muted); }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .n { font-size: 22px; font-weight: 700; }
.card.alert { border-color: var(--bad); }
.card.alert .n { color: var(--bad); }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg .axis { font-size: 10px; fill: #667085; }
.legend .key { margin-right: 12px; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; background: #eef0f4; }
.badge.active, .badge.applied, .badge.sent { background: #dff3e6; color: var(--ok); }
.badge.revoked, .badge.problem, .badge.failed, .badge.bounce, .badge.complaint { background: #fbe3e0; color: var(--bad); }
.badge.suspended, .badge.pending, .badge.expired, .badge.test { background: #fdf1d8; color: var(--warn); }
.flash { padding: 10px 14px; border-radius: 6px; margin-bottom: 14px; border: 1px solid; }
.flash.ok { background: #e8f6ee; border-color: #9fd5b4; }
.flash.error { background: #fdecea; border-color: #f0a8a0; }
form.inline { display: inline-flex; gap: 4px; align-items: center; margin: 2px 0; flex-wrap: wrap; }
td form.inline input[type=text] { width: 11em; }
form.filters { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; }
input[type=text], select { padding: 4px 6px; border: 1px solid #c6cbd3; border-radius: 4px; background: #fff; }
button { padding: 4px 10px; border-radius: 4px; border: 1px solid #aab2bf; background: #fff; cursor: pointer; }
button.danger { border-color: var(--bad); color: var(--bad); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:disabled { opacity: .6; cursor: progress; }
.confirm { background: #fff; border: 2px solid var(--bad); border-radius: 8px; padding: 16px 20px; max-width: 640px; }
.timeline td:first-child { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; background: #fff; border: 1px solid var(--line); padding: 10px 14px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
`;

export const CONSOLE_JS = `'use strict';
// The token has done its job once the page loaded (the cookie carries it now): take it out of the
// address bar, so it is not left in the history, a bookmark or a screenshot.
(function () {
  var url = new URL(window.location.href);
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  // Actions wait for the worker: show that, and do not send the same action twice.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== 'post') return;
    var buttons = form.querySelectorAll('button');
    window.setTimeout(function () {
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = true;
        if (buttons[i].type === 'submit') buttons[i].textContent = 'Working…';
      }
    }, 0);
  });
  // Back to a page from the browser's cache: its buttons work again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    var disabled = document.querySelectorAll('button:disabled');
    for (var i = 0; i < disabled.length; i++) disabled[i].disabled = false;
  });
  // The overview painted before its figures were read: fetch them (same origin, the cookie) and show them.
  var figures = document.getElementById('overview-figures');
  if (figures && figures.getAttribute('data-src')) {
    fetch(figures.getAttribute('data-src'), { credentials: 'same-origin' })
      .then(function (response) { if (!response.ok) throw new Error('HTTP ' + response.status); return response.text(); })
      .then(function (text) { figures.innerHTML = text; figures.removeAttribute('data-src'); })
      .catch(function () { figures.innerHTML = '<p class="muted">The figures could not be read. <a href="/?wait=1">Try again</a>.</p>'; });
  }
  // Filters apply as soon as one changes (GET forms only: a change never posts anything).
  var selects = document.querySelectorAll('form.filters[method=get] select');
  for (var i = 0; i < selects.length; i++) {
    selects[i].addEventListener('change', function (event) { event.target.form.submit(); });
  }
})();
`;
