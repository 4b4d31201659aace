/** The provider's name (route `/webhooks/stripe`, the `stripe` of every stored key). */
export const PROVIDER = 'stripe';

/** The endpoint's signing secret `whsec_…`, as the Stripe dashboard shows it. */
export const SECRET = 'KEYSMITH_STRIPE_WEBHOOK_SECRET';
