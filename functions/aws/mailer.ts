import { type MessageTag, SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { mailableLength } from '../domain/canonicalEvent';
import type { RenderedEmail } from '../domain/email';
import { type Deadline, DeadlineExceeded, DeadlineHttpHandler } from './deadline';

/** The port the worker sends email through; tests substitute it to inject faults. */
export interface Mailer {
  /**
   * `tags` travel with the message and come back on SES bounce and complaint events. A send is
   * not started without time for it and is cut off at `options.deadline` (a DeadlineExceeded,
   * retried like any transient failure).
   */
  send(to: string, email: RenderedEmail, tags?: MailTags, options?: SendOptions): Promise<{ messageId: string }>;
}

export interface SendOptions {
  deadline?: Deadline;
}

/**
 * What an email is about: the entitlement (provider + scope) and the event that owed it. Sent as
 * SES message tags so a bounce or complaint leads straight back to the order, without a lookup
 * (`functions/feedback/`).
 */
export interface MailTags {
  provider: string;
  scope: string;
  eventId: string;
}

/**
 * SES tag values allow only ASCII letters, digits, `_` and `-`, at most 256 characters — exactly
 * base64url's alphabet. Scope and event id are arbitrary provider text, so they travel as
 * base64url split over `keysmith-scope`, `keysmith-scope-1`, … (a 200-character scope needs two).
 * The provider name is one of ours and goes as it is, readable in the SES console.
 */
const TAG = { provider: 'keysmith-provider', scope: 'keysmith-scope', eventId: 'keysmith-event' } as const;
const TAG_VALUE_MAX = 256;
const SAFE_TAG_VALUE = /^[A-Za-z0-9_-]{1,256}$/;

export function sesTags(tags: MailTags): MessageTag[] {
  if (!SAFE_TAG_VALUE.test(tags.provider)) throw new Error(`provider "${tags.provider}" cannot be an SES tag value`);
  return [{ Name: TAG.provider, Value: tags.provider }, ...chunked(TAG.scope, tags.scope), ...chunked(TAG.eventId, tags.eventId)];
}

/** The tags of an SES event (`mail.tags`: name → values) back into `MailTags`; `undefined` if not ours. */
export function mailTagsFrom(tags: Record<string, readonly string[] | undefined> | undefined): MailTags | undefined {
  const first = (name: string) => tags?.[name]?.[0];
  const joined = (name: string): string | undefined => {
    const parts: string[] = [];
    for (let i = 0; ; i++) {
      const part = first(i === 0 ? name : `${name}-${i}`);
      if (part === undefined) break;
      parts.push(part);
    }
    return parts.length > 0 ? Buffer.from(parts.join(''), 'base64url').toString('utf8') : undefined;
  };
  const provider = first(TAG.provider);
  const scope = joined(TAG.scope);
  const eventId = joined(TAG.eventId);
  return provider && scope ? { provider, scope, eventId: eventId ?? '' } : undefined;
}

function chunked(name: string, value: string): MessageTag[] {
  const encoded = Buffer.from(value, 'utf8').toString('base64url');
  const out: MessageTag[] = [];
  for (let i = 0; i * TAG_VALUE_MAX < encoded.length; i++) {
    out.push({ Name: i === 0 ? name : `${name}-${i}`, Value: encoded.slice(i * TAG_VALUE_MAX, (i + 1) * TAG_VALUE_MAX) });
  }
  return out;
}

/** A send that will never succeed as it is (bad address, rejected content): recorded, not retried. */
export class PermanentMailError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentMailError';
  }
}

/**
 * In the SES sandbox an account may mail only verified identities; any other recipient is refused
 * with MessageRejected (or AccessDenied, depending on the API) and "Email address is not verified.
 * The following identities failed the check in region US-EAST-1: a@b.example". Retrying cannot
 * help until the account leaves the sandbox, so it is permanent, with its own code: the order says
 * why the customer got no email, and `keysmith doctor --stack` says the account is in the sandbox.
 */
export const SES_SANDBOX_RECIPIENT = 'SES_SANDBOX_RECIPIENT';
const NOT_VERIFIED = /not verified|failed the check/i;
const REFUSALS = new Set(['MessageRejected', 'AccessDenied', 'AccessDeniedException']);

/** The identities an SES "not verified" message names (after "in region X:"), lower-cased. */
function failedIdentities(message: string): string[] {
  const list = /failed the check in region [^:]*:(.*)$/is.exec(message)?.[1] ?? '';
  return list
    .split(/[,\s]+/)
    .map((s) =>
      s
        .trim()
        .replace(/[.;]+$/, '')
        .toLowerCase(),
    )
    .filter((s) => s.length > 0);
}

/**
 * Whether SES refused `to` because the account is in the sandbox and `to` is not verified. An
 * unverified *sender* gives the same message naming the sender instead: that is the seller's setup
 * (fixed once for all orders, then retries succeed), so it is not this.
 */
export function isSandboxRecipientRefusal(error: { name?: string; message?: string }, to: string, from: string): boolean {
  if (!REFUSALS.has(error.name ?? '') || !NOT_VERIFIED.test(error.message ?? '')) return false;
  const named = failedIdentities(error.message ?? '');
  const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const recipient = [to.toLowerCase(), domainOf(to)];
  if (named.some((identity) => recipient.includes(identity))) return true;
  const sender = [from.toLowerCase(), domainOf(from)];
  // No list to read: only the recipient can be meant when the sender is not named.
  return named.length === 0 && !sender.some((identity) => (error.message ?? '').toLowerCase().includes(identity));
}

const PERMANENT = new Set(['MessageRejected', 'InvalidParameterValue', 'MailFromDomainNotVerifiedException', 'AccountSendingPausedException', 'ConfigurationSetDoesNotExistException']);

export interface SenderConfig {
  from: string;
  name?: string;
  replyTo?: string;
  configurationSet?: string;
}

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESClient,
    private readonly sender: SenderConfig,
  ) {}

  async send(to: string, email: RenderedEmail, tags?: MailTags, options: SendOptions = {}): Promise<{ messageId: string }> {
    if (!/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(to)) throw new PermanentMailError('INVALID_ADDRESS', 'the customer email address is not valid');
    // Kept on the order (the license is issued) but no mail system takes it: see eventBounds.ts.
    if (!mailableLength(to)) throw new PermanentMailError('INVALID_ADDRESS', `the customer email address has ${to.length} characters; an address has at most 320`);
    const { deadline } = options;
    // A send begun without time to finish is cut off in flight: SES may still deliver it, and the
    // retry sends it again. Better not to begin.
    if (deadline && deadline.remainingMs() < MIN_SEND_MS) throw new DeadlineExceeded(`not sending: ${Math.round(deadline.remainingMs())} ms left of the invocation`);
    const source = this.sender.name ? `"${this.sender.name.replace(/["\\\r\n]/g, '')}" <${this.sender.from}>` : this.sender.from;
    try {
      const result = await this.client.send(
        new SendEmailCommand({
          Source: source,
          Destination: { ToAddresses: [to] },
          ...(this.sender.replyTo ? { ReplyToAddresses: [this.sender.replyTo] } : {}),
          ...(this.sender.configurationSet ? { ConfigurationSetName: this.sender.configurationSet } : {}),
          ...(tags ? { Tags: sesTags(tags) } : {}),
          Message: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
          },
        }),
        deadline ? { abortSignal: deadline.abortSignal(SES_TIMEOUT_MS) } : {},
      );
      return { messageId: result.MessageId ?? '' };
    } catch (error) {
      const name = (error as Error).name;
      if (isSandboxRecipientRefusal(error as Error, to, this.sender.from)) {
        throw new PermanentMailError(
          SES_SANDBOX_RECIPIENT,
          `SES is in sandbox mode and the recipient is not a verified identity (request production access, or verify the address to test): ${(error as Error).message}`,
        );
      }
      if (deadline?.expired()) throw new DeadlineExceeded(`SES did not answer before the deadline (${name})`);
      if (PERMANENT.has(name)) throw new PermanentMailError(name, (error as Error).message);
      throw error;
    }
  }
}

/** No SES call takes longer than this, even with time left (one attempt; the SDK retries within it). */
export const SES_TIMEOUT_MS = 10_000;
/** A send is not begun with less time than this left. */
export const MIN_SEND_MS = 1_000;

/**
 * SES client with a request timeout (an endpoint that never answers must not hang the worker),
 * bounded further by the deadline of the invocation in progress (DeadlineHttpHandler).
 */
export function sesClient(): SESClient {
  return new SESClient({ requestHandler: new DeadlineHttpHandler({ connectionTimeout: 3000, requestTimeout: SES_TIMEOUT_MS, throwOnRequestTimeout: true }) });
}
