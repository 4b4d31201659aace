import type { Secrets } from '../aws/secrets';
import type { Catalog } from '../domain/catalog';
import type { FulfillmentEvent, ProviderName } from '../domain/events';

/** An HTTP request as the ingress sees it: exact bytes, lower-cased header names. */
export interface WebhookRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The raw path, e.g. `/webhooks/fastspring`. */
  path: string;
  /** The matched route, e.g. `POST /webhooks/selldone/{secret}` — safe to log and store. */
  routeKey: string;
  /** Path parameters from the route (`{secret}`, `{offerId}`). */
  pathParameters: Record<string, string>;
  /** Lower-cased names; duplicate headers joined with a comma (as API Gateway does). */
  headers: Record<string, string>;
  /** The raw query string without `?`. */
  rawQuery: string;
  /** The exact bytes received (base64 already decoded). Signatures are checked over these. */
  body: Buffer;
  receivedAt: Date;
  requestId: string;
}

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** Why a request is refused. The message is for the seller: it never echoes a secret. */
export type RejectionCode = 'UNAUTHORIZED' | 'MALFORMED' | 'TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'METHOD_NOT_ALLOWED' | 'NOT_FOUND' | 'NOT_CONFIGURED';

const STATUS: Record<RejectionCode, number> = {
  UNAUTHORIZED: 401,
  MALFORMED: 400,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  NOT_FOUND: 404,
  // The seller has not set the secret yet: nothing can be verified, so nothing is accepted.
  NOT_CONFIGURED: 401,
};

export class WebhookRejection extends Error {
  readonly status: number;
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRejection';
    this.status = STATUS[code];
  }
}

/** What the ingress knows when it answers the provider. */
export interface EnqueueOutcome {
  events: FulfillmentEvent[];
  /** Events SQS accepted (durable). */
  accepted: FulfillmentEvent[];
  /** Events SQS refused or that could not be sent. */
  failed: FulfillmentEvent[];
}

export interface ProviderContext {
  secrets: Secrets;
  catalog: Catalog;
}

/**
 * A provider is a folder that reads top to bottom: verify → parse → normalize → answer.
 * `Verified` is what authentication produced (the raw body, form fields, JWT claims);
 * `Payload` is the zod-parsed document.
 */
export interface Provider<Verified = unknown, Payload = unknown> {
  name: ProviderName;
  /** Largest accepted body in bytes; larger requests get 413 before anything else. */
  maxBodyBytes: number;
  /** Accepted media types (without parameters); `undefined` accepts any, e.g. for GET. */
  contentTypes?: readonly string[];
  /** Authenticate the request. Throws WebhookRejection('UNAUTHORIZED') before any parsing. */
  verify(request: WebhookRequest, ctx: ProviderContext): Verified | Promise<Verified>;
  /** Parse the verified content with zod. Throws WebhookRejection('MALFORMED'). */
  parse(verified: Verified, request: WebhookRequest): Payload;
  /** Turn the payload into canonical events (possibly none). */
  normalize(payload: Payload, request: WebhookRequest, ctx: ProviderContext): FulfillmentEvent[];
  /** The answer the provider expects, given what was made durable. */
  answer(outcome: EnqueueOutcome, payload: Payload, ctx: ProviderContext): HttpAnswer;
  /** How this provider wants refusals worded (default: plain text). */
  reject?(rejection: WebhookRejection): HttpAnswer;
  /**
   * The body as the delivery log may keep it (30 days), when the provider puts a credential in
   * it (Hotmart's `hottok`): what replay needs, without the secret. Default: the body as received.
   */
  logPayload?(body: Buffer): Buffer;
}
