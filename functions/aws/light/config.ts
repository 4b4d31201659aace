import { AwsConfigError } from './errors';
import type { Credentials } from './sigv4';

/**
 * Where the light client gets what the SDK's default chain would: credentials and region from
 * the environment Lambda sets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
 * `AWS_REGION`), and endpoints from the standard overrides (`AWS_ENDPOINT_URL_<SERVICE>`, then
 * `AWS_ENDPOINT_URL`) — the same variables the local stack sets for the SDK.
 */

export type LightService = 'sqs' | 'dynamodb' | 'secretsmanager';

/** The per-service endpoint variable, as the SDK names it (service id, upper snake case). */
const ENDPOINT_VARIABLE: Record<LightService, string> = {
  sqs: 'AWS_ENDPOINT_URL_SQS',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  secretsmanager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
};

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new AwsConfigError('no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them for the function role)');
  }
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

export function regionFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsConfigError('no AWS region: AWS_REGION must be set (Lambda sets it)');
  return region;
}

/** DNS suffix of the partition a region belongs to. */
function dnsSuffix(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-isof-')) return 'csp.hci.ic.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  if (region.startsWith('eu-isoe-')) return 'cloud.adc-e.uk';
  return 'amazonaws.com';
}

/** The endpoint for a service: an override from the environment, else the regional one. */
export function endpointFor(service: LightService, region: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[ENDPOINT_VARIABLE[service]] ?? env.AWS_ENDPOINT_URL;
  if (override) return override.replace(/\/+$/, '');
  if (env.AWS_USE_DUALSTACK_ENDPOINT === 'true') {
    throw new AwsConfigError(`AWS_USE_DUALSTACK_ENDPOINT is not supported by keysmith's ingress client; set ${ENDPOINT_VARIABLE[service]} to the endpoint instead`);
  }
  const host = env.AWS_USE_FIPS_ENDPOINT === 'true' ? `${service}-fips` : service;
  return `https://${host}.${region}.${dnsSuffix(region)}`;
}
