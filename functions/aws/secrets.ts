import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Secrets: locally from environment variables, in AWS from one Secrets Manager secret whose JSON
 * keys are the same names. The ARN (never a value) is in `KEYSMITH_SECRET_ARN`. Fetched once per
 * cold start and cached; re-read at most once a minute when a caller asks for a refresh (a
 * verification failed, maybe because the operator just set the secret).
 */

export const SECRET_NAMES = [
  'KEYSMITH_FASTSPRING_SECRET',
  'KEYSMITH_HOTMART_HOTTOK',
  'KEYSMITH_SELLDONE_PATH_SECRET',
  'KEYSMITH_PADDLE_PUBLIC_KEY',
  'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY',
  'KEYSMITH_ELEMENTS_OFFER_KEYS',
  'KEYSMITH_LICENSE_SECRET',
  'KEYSMITH_LICENSE_SIGNING_KEY',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

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
let client: SecretsManagerClient | undefined;

/** The secrets for this process; `refresh` re-reads them if the cache is older than a minute. */
export async function loadSecrets(options: { refresh?: boolean } = {}): Promise<Secrets> {
  const now = Date.now();
  if (cached && !(options.refresh && now - cached.loadedAt > REFRESH_AFTER_MS)) return cached.secrets;
  const arn = process.env.KEYSMITH_SECRET_ARN;
  let secrets: Secrets;
  if (arn) {
    client ??= new SecretsManagerClient({});
    const result = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.SecretString ?? '{}');
    } catch {
      throw new Error('the keysmith secret is not a JSON object; set it with `keysmith secrets set`');
    }
    secrets = secretsFrom(typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {});
  } else {
    secrets = secretsFrom(process.env);
  }
  cached = { secrets, loadedAt: now };
  return secrets;
}

/** Tests and the local stack change env secrets at run time. */
export function forgetSecrets(): void {
  cached = undefined;
}
