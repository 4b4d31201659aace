import { createIngressHandler } from '../../ingress/handler';
import { gumroad } from './index';

/** Lambda entry for `POST /webhooks/gumroad/{secret}`. */
export const handler = createIngressHandler(gumroad);
