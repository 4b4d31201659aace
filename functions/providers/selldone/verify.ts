import type { ProviderContext, WebhookRequest } from '../../ingress/types';
import { verifyPathSecret } from '../shared/pathSecret';
import { MIN_PATH_SECRET_LENGTH } from './constants';

export { MIN_PATH_SECRET_LENGTH };

/**
 * Selldone documents no signature for OnlineOrder webhooks (README §3, §8), so the webhook URL
 * carries an unguessable secret: `/webhooks/selldone/{secret}` (../shared/pathSecret.ts).
 */
export function verifySelldone(request: WebhookRequest, ctx: ProviderContext): Buffer {
  return verifyPathSecret(request, ctx, 'KEYSMITH_SELLDONE_PATH_SECRET', '/webhooks/selldone');
}
