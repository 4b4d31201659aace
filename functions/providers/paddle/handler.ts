import { createIngressHandler } from '../../ingress/handler';
import { paddle } from './index';

/** Lambda entry for `GET|POST /webhooks/paddle` (fulfillment) and `POST /webhooks/paddle/alerts`. */
export const handler = createIngressHandler(paddle);
