import { createIngressHandler } from '../../ingress/handler';
import { elements } from './index';

/** Lambda entry for `POST /webhooks/elements/{offerId}`. */
export const handler = createIngressHandler(elements);
