import { createIngressHandler } from '../../ingress/handler';
import { fastspring } from './index';

/** Lambda entry for `POST /webhooks/fastspring`. */
export const handler = createIngressHandler(fastspring);
