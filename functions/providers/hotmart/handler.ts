import { createIngressHandler } from '../../ingress/handler';
import { hotmart } from './index';

/** Lambda entry for `POST /webhooks/hotmart`. */
export const handler = createIngressHandler(hotmart);
