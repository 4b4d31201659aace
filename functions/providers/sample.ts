/**
 * Signed sample requests, one builder per provider (`<provider>/sample.ts`). The CLI's `send`
 * and the tests use them; they sign with the same secrets the stack verifies against (locally the
 * generated dev secrets, which include the private halves of the dev key pairs).
 */

export interface SampleRequest {
  method: 'GET' | 'POST';
  /** Path (and query for GET), e.g. `/webhooks/fastspring`. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The provider's order (or subscription) id the request is about. */
  orderId: string;
  /** The provider event ids it carries. */
  eventIds: string[];
  /**
   * Whether the request carries the provider's own test-order flag (FastSpring `live: false`,
   * Elements `isTest`). Providers without one (Hotmart, Paddle Classic, Selldone) and `--file`
   * payloads, which are sent as given, say false.
   */
  testFlag: boolean;
}

/**
 * The customer of every built-in sample unless `--email` names one: a reserved domain
 * (RFC 2606), so a sample sent to a deployed stack never mails a real-looking address.
 */
export const SAMPLE_EMAIL = 'sample-customer@example.com';

export interface SampleOptions {
  /** Secret values by name: the stack's secrets plus, locally, the dev private keys. */
  secrets: Record<string, string | undefined>;
  /** Event family to send (provider-specific names); each provider has a default. */
  event?: string;
  /** Use this payload instead of the built-in sample (sent byte for byte, then signed). */
  file?: Buffer;
  /** Customer email for the built-in sample. */
  email?: string;
  /** Order id for the built-in sample; a fresh one by default. */
  orderId?: string;
  /**
   * For providers whose requests expire (a JWT's `exp`): how long the sample stays valid, e.g.
   * an hour for a fuzz run that replays it for minutes. @default the provider's own short lifetime
   */
  validForSeconds?: number;
}

export interface SampleBuilder {
  /**
   * Event names `--event` accepts, the default (a purchase that grants) first: one for every
   * event kind the provider maps (test/unit/providers/registry.test.ts sends each).
   */
  events: readonly string[];
  /** The event that refunds a purchase and revokes every license of it (the soak sends it). */
  refundEvent: string;
  /** An order id in the provider's own style, unique for each `n` within soak run `run`. */
  soakOrderId(n: number, run: string): string;
  build(options: SampleOptions): SampleRequest;
}

/** A short random id like the providers use. */
export function randomId(prefix = ''): string {
  return prefix + Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url');
}
