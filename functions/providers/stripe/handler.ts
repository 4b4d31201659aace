import { createIngressHandler } from '../../ingress/handler';
import { stripe } from './index';

/** Lambda entry for `POST /webhooks/stripe`. */
export const handler = createIngressHandler(stripe);
