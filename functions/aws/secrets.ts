import type { AwsJsonClient } from './light/AwsJsonClient';
import { getSecretString, secretsManagerClient } from './light/secretsManager';

/**
 * Secrets: locally from environment variables, in AWS from Secrets Manager secrets whose JSON keys
 * are the same names. Least privilege splits them (docs/security.md): the license secret
 * (`KEYSMITH_SECRET_ARN`: the license secret and signing key, which the worker and every ingress
 * need to derive keys) and one secret per provider (`KEYSMITH_PROVIDER_SECRET_ARN`, only in that
 * provider's ingress). ARNs, never values, are in the environment. Fetched once per cold start and
 * cached; re-read at most once a minute when a caller asks for a refresh (a verification failed,
 * maybe because the operator just set the secret).
 */

/**
 * A secret's name: `KEYSMITH_…`. Which names exist, and which secret holds each in AWS, is
 * declared by the providers (functions/providers/registry.ts: `SECRETS`) and by
 * functions/config/licenseSecrets.ts; this module only reads values, so a handler does not load
 * the registry.
 */
export type SecretName = `KEYSMITH_${string}`;

export interface Secrets {
  get(name: SecretName): string | undefined;
  /**
   * Every accepted value of a shared secret: the current one, then `<NAME>_PREVIOUS` while a
   * rotation is under way.
   */
  candidates(name: SecretName): string[];
}

export function secretsFrom(values: Record<string, unknown>): Secrets {
  const read = (key: string): string | undefined => {
    const value = values[key];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  return {
    get: (name) => read(name),
    candidates: (name) => [read(name), read(`${name}_PREVIOUS`)].filter((v): v is string => v !== undefined),
  };
}

const REFRESH_AFTER_MS = 60_000;
let cached: { secrets: Secrets; loadedAt: number } | undefined;
let client: AwsJsonClient | undefined;
/** A Secrets Manager read under way: concurrent callers share it instead of reading again. */
let inflight: Promise<Secrets> | undefined;

/** The secrets for this process; `refresh` re-reads them if the cache is older than a minute. */
export async function loadSecrets(options: { refresh?: boolean } = {}): Promise<Secrets> {
  const now = Date.now();
  if (cached && !(options.refresh && now - cached.loadedAt > REFRESH_AFTER_MS)) return cached.secrets;
  const arn = process.env.KEYSMITH_SECRET_ARN;
  const providerArn = process.env.KEYSMITH_PROVIDER_SECRET_ARN || undefined;
  if (!arn) {
    const secrets = secretsFrom(process.env);
    cached = { secrets, loadedAt: now };
    return secrets;
  }
  if (!inflight) {
    const read = readSecrets(arn, providerArn).then((secrets) => {
      if (inflight === read) cached = { secrets, loadedAt: now };
      return secrets;
    });
    inflight = read;
    void read.then(
      () => void (inflight === read && (inflight = undefined)),
      () => void (inflight === read && (inflight = undefined)),
    );
  }
  return inflight;
}

/**
 * Starts reading the secret while the Lambda initializes (module scope), so the first request
 * does not wait for Secrets Manager: Lambda runs init with the full CPU before the first
 * invocation. Does nothing outside AWS (no `KEYSMITH_SECRET_ARN`: secrets come from the
 * environment). A failure is left for the first request's own `loadSecrets` to report.
 */
export function prefetchSecrets(): void {
  if (process.env.KEYSMITH_SECRET_ARN && !cached) loadSecrets().catch(() => undefined);
}

/**
 * The license secret, and the provider's own secret when this function has one, read in parallel.
 * The provider's values win: a stack deployed before the split keeps provider values in the
 * license secret until `keysmith secrets set --stack` moves each one (docs/deploying.md), and
 * until then they still verify.
 */
async function readSecrets(arn: string, providerArn: string | undefined): Promise<Secrets> {
  // keysmith's light client (functions/aws/light), not @aws-sdk/client-secrets-manager: the
  // ingress bundles carry no SDK.
  client ??= secretsManagerClient();
  const c = client;
  const [license, provider] = await Promise.all([readJson(c, arn), providerArn ? readJson(c, providerArn) : Promise.resolve({})]);
  return secretsFrom({ ...license, ...provider });
}

async function readJson(c: AwsJsonClient, arn: string): Promise<Record<string, unknown>> {
  const text = await getSecretString(c, arn);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '{}');
  } catch {
    throw new Error('a keysmith secret is not a JSON object; set it with `keysmith secrets set`');
  }
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/** Tests and the local stack change env secrets (and endpoints) at run time. */
export function forgetSecrets(): void {
  cached = undefined;
  client = undefined;
  inflight = undefined;
}
