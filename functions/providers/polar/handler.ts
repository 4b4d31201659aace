import { createIngressHandler } from '../../ingress/handler';
import { polar } from './index';

/** Lambda entry for `POST /webhooks/polar`. */
export const handler = createIngressHandler(polar);
