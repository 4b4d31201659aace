import type { SecretName } from '../../aws/secrets';
import type { ProviderName } from '../../domain/events';

/** The provider's name (route `/webhooks/stripe`, the `stripe` of every stored key). */
export const PROVIDER = 'stripe' as ProviderName;

/** The endpoint's signing secret `whsec_…`, as the Stripe dashboard shows it. */
export const SECRET = 'KEYSMITH_STRIPE_WEBHOOK_SECRET';
export const STRIPE_SECRETS = { webhook: SECRET as SecretName };
