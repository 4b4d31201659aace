import type { Entitlement } from '../../../functions/domain/entitlement';
import { type ActivationsResult, activations } from '../../cli/commands/licenseOps';
import type { Target } from '../../cli/target';
import { run } from '../capture';
import { type Html, html } from '../html';
import { time } from './layout';

/** An order page reads the activations of at most this many of its licenses (one Query each). */
export const ACTIVATIONS_SHOWN = 25;

/** The machines each license is activated on (`keysmith activations`), with a deactivate action per instance. */
export async function activationsSection(t: Target, state: Entitlement): Promise<Html> {
  const licenses = state.licenses.slice(0, ACTIVATIONS_SHOWN);
  if (licenses.length === 0) return html``;
  const results = await Promise.all(licenses.map(async (l) => (await run<ActivationsResult>((out) => activations(l.licenseId, async () => t, out))).value));
  const rows = results.flatMap((r) =>
    r.instances.length === 0
      ? [
          html`<tr data-license="${r.licenseId}"><td><code>${r.licenseId}</code></td><td class="num">${r.activationUsage} / ${r.activationLimit}</td><td colspan="3" class="muted">no activation</td><td></td></tr>`,
        ]
      : r.instances.map(
          (
            i,
          ) => html`<tr data-license="${r.licenseId}" data-instance="${i.id}"><td><code>${r.licenseId}</code></td><td class="num">${r.activationUsage} / ${r.activationLimit}</td><td><code>${i.id}</code></td><td>${i.name}</td><td>${time(i.createdAt)}${i.fingerprint ? html` <span class="muted">fingerprinted</span>` : ''}</td>
<td><form class="inline" method="post" action="/license/${encodeURIComponent(r.licenseId)}/deactivate"><input type="hidden" name="instance" value="${i.id}"><button type="submit" class="deactivate">Deactivate…</button></form></td></tr>`,
        ),
  );
  return html`<h2>Activations</h2>
<table id="activations"><thead><tr><th>license</th><th class="num">seats in use</th><th>instance</th><th>name</th><th>activated</th><th></th></tr></thead><tbody>${rows}</tbody></table>
${state.licenses.length > ACTIVATIONS_SHOWN ? html`<p class="muted">The first ${ACTIVATIONS_SHOWN} of ${state.licenses.length} licenses; \`keysmith activations &lt;license-id&gt;\` reads any other.</p>` : ''}`;
}
