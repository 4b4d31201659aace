import { CliError, EXIT, type Output, table } from '../output';
import { findLocalStack } from '../target';

/** One captured email (the `--json` contract). */
export interface EmailRow {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  at: string;
}

interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
  at: number;
}

/** `keysmith emails [--to EMAIL]`: what the local SES emulator captured. */
export async function emails(options: { to?: string }, out: Output): Promise<void> {
  const info = await findLocalStack();
  let response: Response;
  try {
    response = await fetch(`${info.endpoints.ses}/store`, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new CliError(`the local SES emulator did not answer: ${(error as Error).message}`, EXIT.unreachable);
  }
  const store = (await response.json()) as { emails: StoredEmail[] };
  const wanted = options.to?.trim().toLowerCase();
  const rows: EmailRow[] = store.emails
    .flatMap((e) =>
      e.destination.to.map((to) => ({
        to,
        from: e.from,
        subject: e.subject,
        text: e.body.text ?? '',
        html: e.body.html ?? '',
        messageId: e.messageId,
        at: new Date(e.at * (e.at < 1e11 ? 1000 : 1)).toISOString(),
      })),
    )
    .filter((r) => !wanted || r.to.toLowerCase() === wanted || r.to.toLowerCase().endsWith(`<${wanted}>`));
  out.result(rows, () => (rows.length === 0 ? 'no emails captured' : table([['AT', 'TO', 'SUBJECT'], ...rows.map((r) => [r.at, r.to, r.subject])])));
}
