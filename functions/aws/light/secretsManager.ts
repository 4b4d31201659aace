import { AwsJsonClient, type AwsJsonClientOptions } from './AwsJsonClient';

/** Secrets Manager GetSecretValue over its JSON protocol (awsJson1_1). */

export function secretsManagerClient(options: Partial<AwsJsonClientOptions> = {}): AwsJsonClient {
  return new AwsJsonClient({ service: 'secretsmanager', targetPrefix: 'secretsmanager', jsonVersion: '1.1', ...options });
}

/** The secret's string value (undefined for a binary secret). */
export async function getSecretString(client: AwsJsonClient, secretId: string): Promise<string | undefined> {
  const output = await client.call<{ SecretString?: string }>('GetSecretValue', { SecretId: secretId });
  return output.SecretString;
}
