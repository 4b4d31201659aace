/**
 * The license API's routes and its throttling, shared by the CDK stack (an HTTP API of its own,
 * `LicensingUrl`) and the local stack. App traffic — every launch of every customer's app — is
 * not webhook traffic: it gets its own API and its own limits, so a burst of validations never
 * throttles a storefront's webhooks, and a webhook flood never locks apps out.
 */
export const LICENSING_ENTRY = 'functions/licensing/handler.ts';
export const LICENSING_ROUTES = ['/v1/licenses/activate', '/v1/licenses/validate', '/v1/licenses/deactivate'] as const;

/**
 * API Gateway stage throttling for the license API (requests per second, and the burst bucket).
 * Sized for app launches of a small software business with headroom; a key-guessing run is cut
 * at this rate and shows on the dashboard (LicenseRequests, Reason NOT_FOUND).
 */
export const LICENSING_THROTTLE = { rateLimit: 200, burstLimit: 400 } as const;
