import type { ProviderContext, WebhookRequest } from '../../ingress/types';
import { verifyPathSecret } from '../shared/pathSecret';
import { MIN_PATH_SECRET_LENGTH } from './constants';

export { MIN_PATH_SECRET_LENGTH };

/**
 * Gumroad's Ping and its resource subscriptions are unsigned POSTs (gumroad.com/ping;
 * antiwork/gumroad `PostToIndividualPingEndpointWorker`), so the URL the seller pastes into
 * Gumroad carries an unguessable secret: `/webhooks/gumroad/{secret}` (../shared/pathSecret.ts).
 *
 * Nothing in a ping says when it was sent, so nothing can be refused as stale: a replay is
 * recognized by its event identity (./normalize.ts) and applied once.
 */
export function verifyGumroad(request: WebhookRequest, ctx: ProviderContext): Buffer {
  return verifyPathSecret(request, ctx, 'KEYSMITH_GUMROAD_PATH_SECRET', '/webhooks/gumroad');
}
