import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RenderedEmail } from '../domain/email';

/** The port the worker sends email through; tests substitute it to inject faults. */
export interface Mailer {
  send(to: string, email: RenderedEmail): Promise<{ messageId: string }>;
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

  async send(to: string, email: RenderedEmail): Promise<{ messageId: string }> {
    if (!/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(to)) throw new PermanentMailError('INVALID_ADDRESS', 'the customer email address is not valid');
    const source = this.sender.name ? `"${this.sender.name.replace(/["\\\r\n]/g, '')}" <${this.sender.from}>` : this.sender.from;
    try {
      const result = await this.client.send(
        new SendEmailCommand({
          Source: source,
          Destination: { ToAddresses: [to] },
          ...(this.sender.replyTo ? { ReplyToAddresses: [this.sender.replyTo] } : {}),
          ...(this.sender.configurationSet ? { ConfigurationSetName: this.sender.configurationSet } : {}),
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
