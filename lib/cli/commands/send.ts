import { readFileSync } from 'node:fs';
import type { ProviderName } from '../../../functions/domain/events';
import { findWebhookProvider, SECRET_NAMES, WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { CliError, EXIT, type Output, usageError } from '../output';
import { confirm } from '../prompt';
import { findLocalStack, type LocalStackInfo, resolveTarget, signingSecrets, type TargetOptions } from '../target';

export interface SendOptions {
  provider: string;
  event?: string;
  file?: string;
  url?: string;
  email?: string;
  order?: string;
  /** Skip the question `--stack` asks before posting with production secrets. */
  yes?: boolean;
}

/** What a secret looks like in printed URLs and answers. */
export const MASK = '***';

/**
 * `keysmith send <provider>`: sign a sample (or the given payload) and POST it — to the local
 * stack, to a deployed stack's ApiUrl (`--stack`, signing with the secrets in its secret where the
 * CLI may read them, else with KEYSMITH_* from the environment), or to any `--url`.
 *
 * Every built-in sample is a test order (the provider's test flag where it has one) for a
 * customer under example.com. Secrets that end up in the request path (Selldone's path secret,
 * the Elements offer id is not one) are masked in everything printed.
 */
export async function send(options: SendOptions, targetOptions: TargetOptions, out: Output): Promise<void> {
  const registration = findWebhookProvider(options.provider);
  if (!registration) throw usageError(`unknown provider "${options.provider}"; one of: ${WEBHOOK_PROVIDERS.map((p) => p.name).join(', ')}`);
  const sample = await registration.sample();
  if (options.event && !sample.events.includes(options.event)) {
    throw usageError(`unknown --event "${options.event}" for ${options.provider}; one of: ${sample.events.join(', ')}`);
  }
  let info: LocalStackInfo | undefined;
  let base = options.url;
  let stackSecrets: Record<string, string> = {};
  const stack = targetOptions.stack ?? (process.env.KEYSMITH_STACK || undefined);
  if (!base && stack) {
    await confirmProduction(options, stack, out);
    const t = await resolveTarget(targetOptions);
    base = t.apiUrl;
    stackSecrets = await t.readSecrets().catch((error: unknown) => {
      out.note(`cannot read the stack's secret (${(error as Error).message}); signing with KEYSMITH_* from the environment`);
      return {};
    });
    t.close();
  } else if (!base) {
    info = await findLocalStack();
    base = info.url;
  } else {
    // A deployed stack: secrets from the environment; local dev secrets still help when pointing at it.
    info = await findLocalStack().catch(() => undefined);
  }
  let file: Buffer | undefined;
  if (options.file) {
    try {
      file = readFileSync(options.file);
    } catch (error) {
      throw usageError(`cannot read --file ${options.file}: ${(error as Error).message}`);
    }
  }
  const secrets = signingSecrets(info, stackSecrets);
  let request: Awaited<ReturnType<typeof sample.build>>;
  try {
    request = await sample.build({
      secrets,
      ...(options.event ? { event: options.event } : {}),
      ...(file ? { file } : {}),
      ...(options.email ? { email: options.email } : {}),
      ...(options.order ? { orderId: options.order } : {}),
    });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const target = new URL(request.path, base.endsWith('/') ? base : `${base}/`);
  if (!options.url) target.host = new URL(base).host;
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(target, {
      method: request.method,
      headers: request.headers,
      ...(request.method === 'POST' ? { body: request.body } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CliError(`could not reach ${target.origin}: ${(error as Error).message}`, EXIT.unreachable);
  }
  const mask = masker(secrets);
  const body = mask(await response.text());
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const result = {
    provider: options.provider as ProviderName,
    // The path can carry a secret (Selldone authenticates by it): never printed.
    url: mask(target.toString()),
    status: response.status,
    ok: response.ok,
    body,
    orderId: request.orderId,
    eventIds: request.eventIds,
    testOrder: request.testFlag,
    ms,
    // API Gateway's request id: the delivery id in the delivery log (`keysmith deliveries`, `replay`).
    ...(response.headers.get('apigw-requestid') ? { deliveryId: response.headers.get('apigw-requestid')! } : {}),
  };
  out.result(result, () =>
    [
      `${request.method} ${result.url} → ${result.status} (${ms} ms)`,
      `order:  ${result.orderId}`,
      `events: ${result.eventIds.join(', ')}`,
      ...(options.file ? [] : [request.testFlag ? 'test order (the provider’s test flag is set)' : `${options.provider} has no test-order flag: the sample is recorded as a live order`]),
      ...(result.deliveryId ? [`delivery: ${result.deliveryId}`] : []),
      ...(body.trim() ? [`answer: ${body.trim().slice(0, 2000)}`] : []),
      ...(response.ok ? [`Next: npx keysmith licenses --order ${result.orderId}`] : []),
    ].join('\n'),
  );
  if (!response.ok) throw new CliError(`${options.provider} webhook answered ${response.status}`, EXIT.failed);
}

/**
 * `send --stack` signs with the deployed stack's secrets and creates a real entitlement (and
 * email) there: a person confirms it, or `--yes` says they meant it. Without a terminal and
 * without `--yes` nothing is sent (exit 2).
 */
async function confirmProduction(options: SendOptions, stack: string, out: Output): Promise<void> {
  if (options.yes) return;
  const question = `Send a signed ${options.provider} test order to the deployed stack ${stack}, signed with its production secrets? It issues a license there${options.email ? ` and emails ${options.email}` : ''}.`;
  const answer = await confirm(process.stdin, process.stderr, question);
  if (answer === undefined) throw usageError(`send --stack posts to the deployed stack ${stack} with its production secrets: pass --yes to confirm (no terminal to ask on)`);
  if (!answer) {
    out.note('nothing sent');
    throw new CliError('cancelled: nothing sent', EXIT.failed);
  }
}

function isSecretName(name: string): boolean {
  return name.startsWith('KEYSMITH_DEV_') || SECRET_NAMES.includes(name.replace(/_PREVIOUS$/, ''));
}

/** Replaces every secret value (and its URL-encoded form) in a text with MASK. */
export function masker(secrets: Record<string, string | undefined>): (text: string) => string {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(secrets)) {
    // Secrets only: KEYSMITH_CONFIG, KEYSMITH_STACK and the like are settings, not secrets.
    if (!isSecretName(name)) continue;
    // Short values are not secrets worth masking and would garble unrelated text.
    if (!value || value.length < 8) continue;
    values.add(value);
    values.add(encodeURIComponent(value));
  }
  const sorted = [...values].sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((t, value) => t.split(value).join(MASK), text);
}
