import { QUEUE } from '../../../functions/settings';
import { type DlqEntry, dlqList } from '../../cli/commands/dlq';
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
<td><code>${m.messageId}</code></td>
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
