import { createIngressHandler } from '../../ingress/handler';
import { paddleBilling } from './index';

/** Lambda entry for `POST /webhooks/paddle-billing`. */
export const handler = createIngressHandler(paddleBilling);
