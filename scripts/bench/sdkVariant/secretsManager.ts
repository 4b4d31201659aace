import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Benchmark-only stand-in for functions/aws/light/secretsManager.ts, backed by @aws-sdk/client-secrets-manager. */

export function secretsManagerClient(): SecretsManagerClient {
  return new SecretsManagerClient({});
}

export async function getSecretString(client: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}
