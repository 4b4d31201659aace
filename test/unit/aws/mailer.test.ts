import type { SESClient } from '@aws-sdk/client-ses';
import { Deadline, DeadlineExceeded } from '../../../functions/aws/deadline';
import { isSandboxRecipientRefusal, PermanentMailError, SES_SANDBOX_RECIPIENT, SesMailer } from '../../../functions/aws/mailer';
import { applyContextFactory } from '../../../functions/config/applyContext';
import type { RenderedEmail } from '../../../functions/domain/email';
import { processEvent } from '../../../functions/worker/processEvent';
import { exampleCatalog, grantEvent, testSecrets } from '../../helpers/fixtures';
import { MemoryStore, silentLogger } from '../../helpers/memory';

/** How SesMailer classifies SES's refusals: what is retried, what is recorded on the order. */

const EMAIL: RenderedEmail = { subject: 's', text: 't', html: '<p>t</p>' };
const FROM = 'licenses@shop.example';

/** An SES client whose every send fails with the given error, as the SDK throws it. */
function refusingClient(name: string, message: string): { client: SESClient; calls: number[] } {
  const calls: number[] = [];
  const client = {
    send: async () => {
      calls.push(Date.now());
      throw Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
    },
  } as unknown as SESClient;
  return { client, calls };
}

async function sendError(client: SESClient, to = 'buyer@customer.example'): Promise<unknown> {
  return new SesMailer(client, { from: FROM }).send(to, EMAIL).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('SES sandbox refusals', () => {
  it.each([
    ['MessageRejected', 'Email address is not verified. The following identities failed the check in region US-EAST-1: buyer@customer.example'],
    ['AccessDenied', 'Email address is not verified. The following identities failed the check in region EU-WEST-1: Buyer@Customer.example'],
    ['AccessDeniedException', 'Email address is not verified. The following identities failed the check in region US-EAST-1: customer.example, buyer@customer.example'],
  ])('%s naming the recipient is permanent, with its own code', async (name, message) => {
    // Prepare
    const { client } = refusingClient(name, message);

    // Act
    const error = await sendError(client);

    // Assess
    expect(error).toBeInstanceOf(PermanentMailError);
    expect((error as PermanentMailError).code).toBe(SES_SANDBOX_RECIPIENT);
    expect((error as PermanentMailError).message).toMatch(/sandbox/);
  });

  it('an unverified sender is not a recipient problem (the seller fixes it once; retries then succeed)', () => {
    // Prepare
    const refusal = { name: 'AccessDenied', message: `Email address is not verified. The following identities failed the check in region US-EAST-1: ${FROM}` };

    // Act / Assess
    expect(isSandboxRecipientRefusal(refusal, 'buyer@customer.example', FROM)).toBe(false);
  });

  it('an IAM AccessDenied (no verification failure) stays transient', async () => {
    // Prepare
    const { client } = refusingClient('AccessDenied', 'User is not authorized to perform ses:SendEmail on resource arn:aws:ses:us-east-1:1:identity/buyer@customer.example');

    // Act
    const error = await sendError(client);

    // Assess
    expect(error).not.toBeInstanceOf(PermanentMailError);
  });

  it('other rejections keep their own code', async () => {
    // Prepare
    const { client } = refusingClient('MessageRejected', 'Illegal address');

    // Act
    const error = await sendError(client);

    // Assess
    expect((error as PermanentMailError).code).toBe('MessageRejected');
  });

  it('the worker records the sandbox refusal on the order: email failed, problem SES_SANDBOX_RECIPIENT, no retry', async () => {
    // Prepare
    const { client, calls } = refusingClient('MessageRejected', 'Email address is not verified. The following identities failed the check in region US-EAST-1: ada@example.com');
    const store = new MemoryStore();
    const context = () => applyContextFactory()(testSecrets(), exampleCatalog(), new Date('2026-01-10T12:00:00Z'));
    const event = grantEvent({ scope: 'sandboxed-order' });

    // Act: resolves (a thrown error would mean a retry)
    const result = await processEvent(event, { store, mailer: new SesMailer(client, { from: FROM }), context, log: silentLogger() }, { firstDelivery: true, claimToken: 'm-1' });

    // Assess
    expect(calls).toHaveLength(1);
    expect(result.applied.email?.status).toBe('failed');
    expect(result.applied.problem?.code).toBe(SES_SANDBOX_RECIPIENT);
  });
});

describe('SesMailer and the deadline', () => {
  it('does not begin a send with less than a second left', async () => {
    // Prepare
    const { client, calls } = refusingClient('MessageRejected', 'never reached');

    // Act
    const error = await new SesMailer(client, { from: FROM }).send('buyer@customer.example', EMAIL, undefined, { deadline: Deadline.in(500) }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DeadlineExceeded);
    expect(calls).toHaveLength(0);
  });
});
