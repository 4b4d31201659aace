import { createIngressHandler } from '../../ingress/handler';
import { selldone } from './index';

/** Lambda entry for `POST /webhooks/selldone/{secret}`. */
export const handler = createIngressHandler(selldone);
