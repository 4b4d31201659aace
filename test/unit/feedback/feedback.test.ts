import type { SNSEvent } from 'aws-lambda';
import { type MailTags, sesTags } from '../../../functions/aws/mailer';
import type { RenderedEmail } from '../../../functions/domain/email';
import { createFeedbackHandler } from '../../../functions/feedback/handler';
import { parseSesEvent } from '../../../functions/feedback/sesEvent';
import { createLogger } from '../../../functions/log/logger';
import { processEvent } from '../../../functions/worker/processEvent';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';
import { MemoryMailer, MemoryStore } from '../../helpers/memory';
import { capturedMetrics, readEmf } from '../log/support';

/** Keeps the tags each email was sent with, as the SES mailer would. */
class TaggingMailer extends MemoryMailer {
  readonly tags: (MailTags | undefined)[] = [];
  override async send(to: string, email: RenderedEmail, tags?: MailTags) {
    this.tags.push(tags);
    return super.send(to, email);
  }
}

const CUSTOMER = 'ada.lovelace@example.com';

/** A bounce as SES event publishing sends it through SNS (trimmed from the SES documentation). */
function bounceNotification(tags: Record<string, string[]>, overrides: { feedbackId?: string; bounceType?: string } = {}) {
  return {
    eventType: 'Bounce',
    bounce: {
      feedbackId: overrides.feedbackId ?? '0100018d2a7b-bounce-0001-000000',
      bounceType: overrides.bounceType ?? 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: CUSTOMER, action: 'failed', status: '5.1.1', diagnosticCode: `smtp; 550 5.1.1 <${CUSTOMER}>: user unknown` }],
      timestamp: '2026-01-10T12:00:05.000Z',
      reportingMTA: 'dsn; a8-55.smtp-out.amazonses.com',
    },
    mail: {
      timestamp: '2026-01-10T12:00:01.000Z',
      source: 'Example Software <licenses@example.com>',
      sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/example.com',
      sendingAccountId: '123456789012',
      messageId: '0100018d2a7a-message-0001-000000',
      destination: [CUSTOMER],
      headersTruncated: false,
      headers: [{ name: 'To', value: CUSTOMER }],
      commonHeaders: { from: ['Example Software <licenses@example.com>'], to: [CUSTOMER], subject: 'Your Example App license' },
      tags: { 'ses:configuration-set': ['KeysmithSesConfigurationSet'], 'ses:source-ip': ['192.0.2.1'], ...tags },
    },
  };
}

function complaintNotification(tags: Record<string, string[]>) {
  const { bounce: _bounce, ...rest } = bounceNotification(tags);
  return {
    ...rest,
    eventType: 'Complaint',
    complaint: {
      feedbackId: '0100018d2a7c-complaint-0001-000000',
      complainedRecipients: [{ emailAddress: CUSTOMER }],
      complaintFeedbackType: 'abuse',
      timestamp: '2026-01-10T13:00:00.000Z',
      userAgent: 'ExampleCorp Feedback Loop (V0.01)',
    },
  };
}

const snsEvent = (message: unknown, messageId = 'sns-1'): SNSEvent =>
  ({
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:feedback:sub',
        Sns: {
          Type: 'Notification',
          MessageId: messageId,
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:feedback',
          Message: typeof message === 'string' ? message : JSON.stringify(message),
          Timestamp: '2026-01-10T12:00:06.000Z',
        },
      },
    ],
  }) as unknown as SNSEvent;

describe('SES feedback onto the order', () => {
  async function setup() {
    // Prepare: a real order, mailed by the worker's processEvent with its tags.
    const store = new MemoryStore();
    const mailer = new TaggingMailer();
    const ctx = () => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date('2026-01-10T12:00:00Z') });
    const grant = grantEvent({ scope: 'order-feedback', customer: { email: CUSTOMER, name: 'Ada' } });
    await processEvent(grant, { store, mailer, context: ctx, log: createLogger({}, () => undefined) }, { firstDelivery: true, claimToken: 'm1' });
    expect(mailer.tags).toEqual([{ provider: 'fastspring', scope: 'order-feedback', eventId: grant.eventId }]);
    // What SES publishes back: the tags as `name → [value]`.
    const published = Object.fromEntries(sesTags(mailer.tags[0]!).map((t) => [t.Name!, [t.Value!]]));
    const lines: string[] = [];
    const { metrics, docs } = capturedMetrics();
    const handler = createFeedbackHandler({ store, catalog: exampleCatalog, log: createLogger({}, (l) => lines.push(l), 'debug'), metrics, now: () => new Date('2026-01-10T12:01:00Z') });
    const stored = () => store.items.get('fastspring#order-feedback')!;
    const applied = () => store.applied('fastspring', 'order-feedback');
    return { store, handler, published, lines, docs, stored, grant, applied };
  }

  it('records a bounce on the entitlement the email was about, changing nothing else', async () => {
    const { handler, published, stored, docs, grant, applied } = await setup();
    const before = structuredClone(stored());
    const appliedBefore = await applied();

    // Act
    await handler(snsEvent(bounceNotification(published)));

    // Assess
    const after = stored();
    expect(after.version).toBe(before.version + 1);
    expect((await applied()).at(-1)).toEqual({
      eventId: 'ses#0100018d2a7b-bounce-0001-000000',
      seq: 2,
      action: 'record',
      reason: 'ses.bounce',
      occurredAt: '2026-01-10T12:00:05.000Z',
      appliedAt: '2026-01-10T12:01:00.000Z',
    });
    // The order itself is untouched: same customer, licenses, status, earlier events.
    expect(after.state.customer).toEqual(before.state.customer);
    expect(after.state.licenses).toEqual(before.state.licenses);
    expect(after.state.status).toBe(before.state.status);
    expect((await applied()).slice(0, -1)).toEqual(appliedBefore);
    expect((await applied())[0]!.eventId).toBe(grant.eventId);
    expect(readEmf(docs[0]!)['Service=TestStack|Provider=fastspring']).toEqual({ EmailsBounced: 1 });
  });

  it('records a duplicate notification (SNS redelivery, or SES resending it) only once', async () => {
    const { handler, published, stored, docs, applied } = await setup();
    await handler(snsEvent(bounceNotification(published), 'sns-1'));
    const once = structuredClone(stored());

    await handler(snsEvent(bounceNotification(published), 'sns-1'));
    await handler(snsEvent(bounceNotification(published), 'sns-2'));

    expect(stored()).toEqual(once);
    expect((await applied()).filter((e) => e.reason === 'ses.bounce')).toHaveLength(1);
    expect(docs).toHaveLength(1); // counted once
  });

  it('records complaints and transient bounces with their own reasons', async () => {
    const { handler, published, applied } = await setup();
    await handler(snsEvent(complaintNotification(published)));
    await handler(snsEvent(bounceNotification(published, { feedbackId: 'transient-1', bounceType: 'Transient' })));
    expect((await applied()).slice(-2).map((e) => [e.eventId, e.reason])).toEqual([
      ['ses#0100018d2a7c-complaint-0001-000000', 'ses.complaint'],
      ['ses#transient-1', 'ses.bounce.transient'],
    ]);
  });

  it('logs what it recorded with the recipient masked', async () => {
    const { handler, published, lines } = await setup();
    await handler(snsEvent(bounceNotification(published)));
    const line = JSON.parse(lines.find((l) => l.includes('email feedback recorded'))!);
    expect(line).toMatchObject({ level: 'warn', provider: 'fastspring', scope: 'order-feedback', kind: 'bounce', detail: 'Permanent/General', recipients: ['a***@e***.com'] });
    for (const l of lines) expect(l).not.toContain(CUSTOMER);
  });

  it.each<[string, (tags: Record<string, string[]>) => unknown]>([
    ['an email without keysmith tags', () => bounceNotification({})],
    ['a delivery event of a keysmith email', (tags) => ({ ...bounceNotification(tags), eventType: 'Delivery' })],
    ['a message that is not JSON', () => 'not json'],
    ['an SNS subscription confirmation-like message', () => ({ Type: 'SubscriptionConfirmation' })],
  ])('skips %s without writing', async (_name, message) => {
    const { handler, store, stored, published } = await setup();
    const before = structuredClone(stored());
    const calls = store.calls;
    await handler(snsEvent(message(published)));
    expect(stored()).toEqual(before);
    expect(store.calls).toBe(calls);
  });

  it('never creates an entitlement for tags that name none', async () => {
    const { handler, store } = await setup();
    const stranger = Object.fromEntries(sesTags({ provider: 'paddle', scope: 'no-such-order', eventId: 'e' }).map((t) => [t.Name!, [t.Value!]]));
    await handler(snsEvent(bounceNotification(stranger)));
    expect(store.items.has('paddle#no-such-order')).toBe(false);
  });

  it('throws on a store failure so Lambda retries the notification', async () => {
    const { handler, store, published } = await setup();
    store.put = async () => Promise.reject(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(handler(snsEvent(bounceNotification(published)))).rejects.toThrow('throttled');
  });

  it('reads identity notifications (notificationType) too', () => {
    const { eventType: _type, ...rest } = bounceNotification(Object.fromEntries(sesTags({ provider: 'hotmart', scope: 's', eventId: 'e' }).map((t) => [t.Name!, [t.Value!]])));
    const parsed = parseSesEvent({ ...rest, notificationType: 'Bounce' });
    expect(parsed).toMatchObject({ ok: true, feedback: { kind: 'bounce', emailEventId: 'e', event: { provider: 'hotmart', scope: 's', action: 'record', customer: { email: '' } } } });
  });
});
