import type { Entitlement } from '../../../functions/domain/entitlement';
import { type Html, html } from '../html';

/**
 * The order page's activations (license API, issue 11): machines that activated a license, and a
 * deactivate action. TODO(issue 11): list them through lib/cli/commands/activations and post
 * deactivations to it once that module exists; until then the section says so.
 */
export function activationsSection(_state: Entitlement): Html {
  return html`<h2>Activations</h2><p class="muted" id="activations-todo">Activations appear here once the license API (issue 11) is merged.</p>`;
}
