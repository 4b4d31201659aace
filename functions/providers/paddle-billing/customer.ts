import { API_KEY } from './names';

/**
 * The optional customer lookup. A Paddle Billing transaction names its customer by id
 * (`customer_id`), never by address. When the seller gives keysmith an API key
 * (`KEYSMITH_PADDLE_BILLING_API_KEY`, permission `customer.read`), the ingress asks Paddle for the
 * customer of a `transaction.completed` that does not carry an email in its `custom_data`:
 * `GET /customers/{id}` on api.paddle.com, or sandbox-api.paddle.com for a sandbox key
 * (`pdl_sdbx_…`).
 *
 * - Bounded: at most LOOKUP_TIMEOUT_MS (Paddle waits 5 s for our answer).
 * - A network failure, a timeout, 429 or 5xx throws: the request is answered 503 and Paddle
 *   retries the notification later (nothing was enqueued).
 * - 401/403/404 are the seller's configuration, not worth a retry: the license is issued without
 *   an email and the answer says why (Paddle's notification log shows it).
 * - The local stack's generated key (`pdl_local_apikey_…`) never leaves the machine: no lookup.
 */

export const LOOKUP_TIMEOUT_MS = 2_500;

export interface CustomerLookup {
  customer?: { email: string; name?: string; locale?: string };
  /** Why no customer was found (for the 200 answer); never contains the key. */
  problem?: string;
}

export type Fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{ status: number; json(): Promise<unknown> }>;

/** Thrown for failures worth a retry (the pipeline answers 503). */
export class CustomerLookupUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CustomerLookupUnavailable';
  }
}

export function apiBase(apiKey: string, override = process.env.KEYSMITH_PADDLE_BILLING_API_URL): string {
  if (override) return override.replace(/\/+$/, '');
  return apiKey.startsWith('pdl_sdbx_') ? 'https://sandbox-api.paddle.com' : 'https://api.paddle.com';
}

/** The prefix of the API key the local stack generates: there is no Paddle API to ask locally. */
export const LOCAL_KEY_PREFIX = 'pdl_local_apikey_';

export async function lookupCustomer(customerId: string, apiKey: string, fetchImpl: Fetch = fetch as unknown as Fetch, timeoutMs = LOOKUP_TIMEOUT_MS): Promise<CustomerLookup> {
  if (apiKey.startsWith(LOCAL_KEY_PREFIX)) return { problem: 'the local stack has no Paddle API to ask (development key)' };
  if (!/^ctm_[a-z0-9]{1,64}$/i.test(customerId)) return { problem: `customer id "${customerId.slice(0, 80)}" is not a Paddle customer id` };
  let response: Awaited<ReturnType<Fetch>>;
  try {
    response = await fetchImpl(`${apiBase(apiKey)}/customers/${customerId}`, {
      headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new CustomerLookupUnavailable('the Paddle API did not answer the customer lookup', { cause: error });
  }
  if (response.status === 429 || response.status >= 500) throw new CustomerLookupUnavailable(`the Paddle API answered ${response.status} to the customer lookup`);
  if (response.status !== 200) return { problem: `the Paddle API answered ${response.status} to the customer lookup (check ${API_KEY} and its customer.read permission)` };
  const body = (await response.json().catch(() => undefined)) as { data?: { email?: unknown; name?: unknown; locale?: unknown } } | undefined;
  const data = body?.data;
  if (typeof data?.email !== 'string' || data.email.trim() === '') return { problem: 'the Paddle API returned a customer without an email' };
  return {
    customer: {
      email: data.email.trim(),
      ...(typeof data.name === 'string' && data.name.trim() ? { name: data.name.trim() } : {}),
      ...(typeof data.locale === 'string' && data.locale.trim() ? { locale: data.locale.trim() } : {}),
    },
  };
}
