import type { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { type MailTags, mailTagsFrom, SesMailer, sesTags } from '../../../functions/aws/mailer';

/** SES event publishing hands tags back as `name → [value]`. */
const asPublished = (tags: { Name?: string; Value?: string }[]) => Object.fromEntries(tags.map((t) => [t.Name!, [t.Value!]]));

describe('SES message tags', () => {
  it.each<[string, MailTags]>([
    ['a plain order', { provider: 'fastspring', scope: 'EBRltgSoSOu5sOHc-xn-wQ', eventId: 'tLJjFi6CQYyQPFRfFOqKig' }],
    ['ids with separators and spaces', { provider: 'selldone', scope: 'shop 12/basket#48211', eventId: '12:48211:PaymentOrder:2026-01-10 12:00' }],
    ['unicode', { provider: 'hotmart', scope: 'pedido-ção-✓', eventId: 'évènement' }],
    ['the longest scope and event id the schema allows (512 UTF-8 bytes)', { provider: 'paddle', scope: '€'.repeat(170), eventId: 'é'.repeat(256) }],
  ])('round-trip %s within what SES accepts', (_name, tags) => {
    // Act
    const encoded = sesTags(tags);
    // Assess: SES allows ASCII letters, digits, `_` and `-`, 256 characters, 50 tags.
    expect(encoded.length).toBeLessThanOrEqual(50);
    for (const tag of encoded) {
      expect(tag.Name).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
      expect(tag.Value).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
    }
    expect(mailTagsFrom(asPublished(encoded))).toEqual(tags);
  });

  it('splits a long value over numbered tags', () => {
    const names = sesTags({ provider: 'paddle', scope: 'x'.repeat(200), eventId: 'e' }).map((t) => t.Name);
    expect(names).toEqual(['keysmith-provider', 'keysmith-scope', 'keysmith-scope-1', 'keysmith-event']);
  });

  it('does not claim emails that are not ours', () => {
    expect(mailTagsFrom(undefined)).toBeUndefined();
    expect(mailTagsFrom({ 'ses:configuration-set': ['Keysmith'], campaign: ['spring'] })).toBeUndefined();
  });

  it('sends the tags and the configuration set with the email', async () => {
    // Prepare
    const sent: SendEmailCommand[] = [];
    const client = {
      send: async (command: SendEmailCommand) => {
        sent.push(command);
        return { MessageId: 'ses-1' };
      },
    } as unknown as SESClient;
    const mailer = new SesMailer(client, { from: 'licenses@example.com', configurationSet: 'keysmith-set' });
    const tags = { provider: 'fastspring', scope: 'order-1', eventId: 'evt-1' };
    // Act
    const result = await mailer.send('ada@example.com', { subject: 's', text: 't', html: '<p>h</p>' }, tags);
    await mailer.send('ada@example.com', { subject: 's', text: 't', html: '<p>h</p>' });
    // Assess
    expect(result.messageId).toBe('ses-1');
    expect(sent[0]!.input).toEqual(expect.objectContaining({ ConfigurationSetName: 'keysmith-set', Tags: sesTags(tags) }));
    expect(sent[1]!.input.Tags).toBeUndefined();
  });

  it('refuses, as a permanent failure to record, an address longer than any address can be (the license is issued all the same)', async () => {
    // Prepare
    const sent: SendEmailCommand[] = [];
    const client = {
      send: async (command: SendEmailCommand) => {
        sent.push(command);
        return { MessageId: 'ses-1' };
      },
    } as unknown as SESClient;
    const mailer = new SesMailer(client, { from: 'licenses@example.com' });
    const longest = `${'a'.repeat(64)}@${'b'.repeat(251)}.com`;
    // Act
    await mailer.send(longest, { subject: 's', text: 't', html: 'h' });
    const tooLong = mailer.send(`a${longest}`, { subject: 's', text: 't', html: 'h' });
    // Assess: 320 characters go to SES; 321 never do.
    await expect(tooLong).rejects.toMatchObject({ name: 'PermanentMailError', code: 'INVALID_ADDRESS', message: expect.stringMatching(/321 characters/) });
    expect(sent.map((c) => c.input.Destination?.ToAddresses?.[0])).toEqual([longest]);
  });
});
