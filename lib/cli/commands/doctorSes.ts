import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SES_SANDBOX_RECIPIENT } from '../../../functions/aws/mailer';
import { loadCatalog } from '../../../functions/config/loadCatalog';
import type { Target } from '../target';

/**
 * `keysmith doctor --stack`'s SES lines, through SES v2, which says outright what v1 only hints
 * at: whether the account is in the sandbox (GetAccount → ProductionAccessEnabled) and whether the
 * sender may send (GetEmailIdentity → VerifiedForSendingStatus, for the address, then its domain).
 * A module of its own so the doctor's other checks change without touching it.
 */

type Verdict = 'ok' | 'warn' | 'fail';
type Add = (check: string, status: Verdict, detail: string) => void;

export async function sesAccountChecks(t: Target, add: Add): Promise<void> {
  const { SESv2Client } = await import('@aws-sdk/client-sesv2');
  // Honors AWS_ENDPOINT_URL_SESV2 like every SDK client; an endpoint that never answers fails the line.
  const ses = new SESv2Client({ region: t.region, requestHandler: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 10_000, throwOnRequestTimeout: true }) });
  try {
    await line(add, 'ses identity', () => senderIdentity(ses, t.region, add));
    await line(add, 'ses sandbox', () => account(ses, t.region, add));
  } finally {
    ses.destroy();
  }
}

async function line(add: Add, check: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    add(check, 'fail', `could not check: ${(error as Error).message}`);
  }
}

/** Verified for sending: `undefined` when SES does not know the identity at all. */
async function verifiedForSending(ses: SESv2Client, identity: string): Promise<{ verified: boolean; status: string } | undefined> {
  const { GetEmailIdentityCommand } = await import('@aws-sdk/client-sesv2');
  try {
    const result = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
    return { verified: result.VerifiedForSendingStatus === true, status: (result.VerificationStatus ?? (result.VerifiedForSendingStatus ? 'SUCCESS' : 'NOT_VERIFIED')).toLowerCase() };
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') return undefined;
    throw error;
  }
}

async function senderIdentity(ses: SESv2Client, region: string, add: Add): Promise<void> {
  const from = loadCatalog().sender.from;
  const domain = from.split('@')[1] ?? from;
  const address = await verifiedForSending(ses, from);
  if (address?.verified) return add('ses identity', 'ok', `sender ${from} verified (address)`);
  const byDomain = await verifiedForSending(ses, domain);
  if (byDomain?.verified) return add('ses identity', 'ok', `sender ${from} verified (domain ${domain})`);
  const seen = [address && `address ${address.status}`, byDomain && `domain ${byDomain.status}`].filter(Boolean).join(', ');
  add(
    'ses identity',
    'fail',
    `sender ${from} is not verified in SES ${region}${seen ? ` (${seen})` : ' (neither the address nor its domain is an SES identity)'}: no license email can be sent. Verify the address or its domain in the SES console.`,
  );
}

async function account(ses: SESv2Client, region: string, add: Add): Promise<void> {
  const { GetAccountCommand } = await import('@aws-sdk/client-sesv2');
  const a = await ses.send(new GetAccountCommand({}));
  const max = a.SendQuota?.Max24HourSend ?? 0;
  const rate = a.SendQuota?.MaxSendRate ?? 0;
  const sent = a.SendQuota?.SentLast24Hours ?? 0;
  if (a.SendingEnabled === false)
    add(
      'ses sandbox',
      'fail',
      `sending is paused for this account in SES ${region}${a.EnforcementStatus ? ` (${a.EnforcementStatus})` : ''}: no email goes out. See the SES console's account dashboard.`,
    );
  else if (a.ProductionAccessEnabled === true) add('ses sandbox', 'ok', `production access in SES ${region}: ${max}/day, ${rate}/s`);
  else {
    add(
      'ses sandbox',
      'warn',
      `SES ${region} is in the sandbox (${max}/day, ${rate}/s): only verified recipients get email; other orders are recorded with problem ${SES_SANDBOX_RECIPIENT}. Request production access in the SES console.`,
    );
  }
  if (max > 0 && sent / max >= 0.8) add('ses quota', sent >= max ? 'fail' : 'warn', `${sent} of ${max} emails sent in the last 24 h`);
  else add('ses quota', 'ok', `${sent} of ${max} emails sent in the last 24 h`);
}
