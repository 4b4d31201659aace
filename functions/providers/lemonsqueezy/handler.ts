import { createIngressHandler } from '../../ingress/handler';
import { lemonsqueezy } from './index';

/** Lambda entry for `POST /webhooks/lemonsqueezy`. */
export const handler = createIngressHandler(lemonsqueezy);
