import { QUEUE } from '../../../functions/settings';
import { type DlqEntry, type DlqShowResult, dlqList, dlqShow } from '../../cli/commands/dlq';
import { run } from '../capture';
import { html } from '../html';
import { type Answer, badge, orderHref, type RequestContext, time } from './layout';

/** The DLQ decoded (the CLI's `dlq list`): each event with the worker's last error; redrive. */
export async function deadLettersPage(ctx: RequestContext): Promise<Answer> {
  const { value } = await run<{ count: number; messages: DlqEntry[] }>((out) => dlqList({ limit: '200' }, async () => ctx.target, out));
  const { count, messages } = value;
  const body = html`<h1>Dead letters <span class="muted" id="dlq-count">${count}</span></h1>
<p>Events the worker failed on ${QUEUE.maxReceiveCount} times (a pipeline failure: DynamoDB or SES unreachable, a bug). Customer mistakes are never here: they are recorded on their order as problems. Fix the cause, then redrive.</p>
${
  count === 0
    ? html`<p id="dlq-empty">The DLQ is empty.</p>`
    : html`<form class="toolbar" method="post" action="/dlq/redrive"><input type="hidden" name="all" value="yes"><button type="submit" id="redrive-all" class="primary">Redrive all ${count}…</button></form>
<table id="dead-letters">
<thead><tr><th>message</th><th>sent</th><th>event</th><th>order</th><th>customer</th><th>last error</th><th></th></tr></thead>
<tbody>${messages.map(
        (m) => html`<tr data-message="${m.messageId}">
<td><a href="/dlq/${encodeURIComponent(m.messageId)}"><code>${m.messageId}</code></a></td>
<td>${time(m.sentAt)}</td>
<td>${m.valid ? html`${m.provider} <strong>${m.action}</strong> ${m.reason}<br><code class="muted">${m.eventId}</code>` : html`${badge('problem')} ${m.problem}`}</td>
<td>${m.valid && m.provider && m.scope ? html`<a href="${orderHref(m.provider, m.scope)}">${m.order}</a>` : '–'}</td>
<td>${m.customer || '–'}</td>
<td>${m.lastError ? html`<strong>${m.lastError.name}</strong>: ${m.lastError.message}<br><span class="muted">${time(m.lastError.at)}, delivery ${m.lastError.receiveCount}</span>` : html`<span class="muted">none recorded</span>`}</td>
<td><form class="inline" method="post" action="/dlq/redrive"><input type="hidden" name="id" value="${m.messageId}"><button type="submit" class="redrive">Redrive</button></form></td>
</tr>`,
      )}</tbody></table>${messages.length < count ? html`<p class="muted">${messages.length} of ${count} shown (SQS hands out a FIFO group’s first messages only).</p>` : ''}`
}`;
  return { kind: 'page', title: 'Dead letters', nav: 'dlq', body };
}

/** One dead letter: the whole event as the worker will read it on redrive, its attributes, redrive. */
export async function deadLetterPage(ctx: RequestContext): Promise<Answer> {
  const [id] = ctx.params as [string];
  const { value: m } = await run<DlqShowResult>((out) => dlqShow(id, async () => ctx.target, out));
  const body = html`<h1>Dead letter <code>${m.messageId}</code></h1>
<dl class="facts">
<dt>sent</dt><dd>${time(m.sentAt)}</dd>
<dt>group</dt><dd><code>${m.group ?? '–'}</code></dd>
<dt>event</dt><dd>${m.valid ? html`${m.provider} <strong>${m.action}</strong> ${m.reason}, order ${m.provider && m.scope ? html`<a href="${orderHref(m.provider, m.scope)}">${m.order}</a>` : m.order}` : html`${badge('problem')} ${m.problem}`}</dd>
<dt>last error</dt><dd>${m.lastError ? html`<strong>${m.lastError.name}</strong>: ${m.lastError.message} <span class="muted">(${time(m.lastError.at)}, delivery ${m.lastError.receiveCount})</span>` : html`<span class="muted">none recorded</span>`}</dd>
</dl>
<p><form class="inline" method="post" action="/dlq/redrive"><input type="hidden" name="id" value="${m.messageId}"><button type="submit" class="primary redrive">Redrive</button></form></p>
<h2>${m.event ? 'Event' : 'Body (not a keysmith event)'}</h2>
<pre id="dead-letter-body">${m.event ? JSON.stringify(m.event, null, 2) : (m.body ?? '')}</pre>
<h2>SQS attributes</h2>
<pre>${JSON.stringify(m.attributes, null, 2)}</pre>`;
  return { kind: 'page', title: `Dead letter ${m.messageId}`, nav: 'dlq', body };
}
