import { SendEmailCommand, SESClient, type MessageTag } from '@aws-sdk/client-ses';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mailableLength } from '../domain/canonicalEvent';
import type { RenderedEmail } from '../domain/email';

/** The port the worker sends email through; tests substitute it to inject faults. */
export interface Mailer {
  /** `tags` travel with the message and come back on SES bounce and complaint events. */
  send(to: string, email: RenderedEmail, tags?: MailTags): Promise<{ messageId: string }>;
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

  async send(to: string, email: RenderedEmail, tags?: MailTags): Promise<{ messageId: string }> {
    if (!/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(to)) throw new PermanentMailError('INVALID_ADDRESS', 'the customer email address is not valid');
    // Kept on the order (the license is issued) but no mail system takes it: see eventBounds.ts.
    if (!mailableLength(to)) throw new PermanentMailError('INVALID_ADDRESS', `the customer email address has ${to.length} characters; an address has at most 320`);
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
      );
      return { messageId: result.MessageId ?? '' };
    } catch (error) {
      const name = (error as Error).name;
      if (PERMANENT.has(name)) throw new PermanentMailError(name, (error as Error).message);
      throw error;
    }
  }
}

/** SES client with a request timeout: an endpoint that never answers must not hang the worker. */
export function sesClient(): SESClient {
  return new SESClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 10_000, throwOnRequestTimeout: true }) });
}
