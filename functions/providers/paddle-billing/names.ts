/** The provider's name (route `/webhooks/paddle-billing`, the `paddle-billing` of every stored key). */
export const PROVIDER = 'paddle-billing';

/** The notification destination's secret key (`pdl_ntfset_…`) of the live account. */
export const SECRET = 'KEYSMITH_PADDLE_BILLING_SECRET';
/** Optional: the sandbox account's destination secret; requests it signs are test orders. */
export const SANDBOX_SECRET = 'KEYSMITH_PADDLE_BILLING_SANDBOX_SECRET';
/** Optional: a Paddle API key with `customer.read`, to look up the email of a transaction's customer. */
export const API_KEY = 'KEYSMITH_PADDLE_BILLING_API_KEY';

export const PADDLE_BILLING_SECRETS = { live: SECRET, sandbox: SANDBOX_SECRET, apiKey: API_KEY } as const;
