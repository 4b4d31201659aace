import type { ReplayRebuild } from '../types';
import { enrich } from './index';
import { PADDLE_BILLING_SECRETS } from './names';

/**
 * `keysmith replay`: what `verify` returned for a logged Paddle Billing delivery. The signature
 * header is not logged, so which destination signed it is not known here: live, unless only the
 * sandbox secret is configured. Replay then puts back the verdict the delivery log recorded for
 * each event (lib/cli/commands/replay.ts), so this guess only stands for deliveries logged before
 * that was recorded. The customer lookup runs again when an API key is set.
 */
export const rebuildVerified: ReplayRebuild = (request, ctx) => {
  const live = ctx.secrets.candidates(PADDLE_BILLING_SECRETS.live).length > 0 || ctx.secrets.candidates(PADDLE_BILLING_SECRETS.sandbox).length === 0;
  return enrich({ body: request.body, live }, ctx);
};
