import { AwsConfigError } from './errors';
import type { Credentials } from './sigv4';

/**
 * Where the light client gets what the SDK's default chain would: credentials and region from
 * the environment Lambda sets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
 * `AWS_REGION`), and endpoints from the standard overrides (`AWS_ENDPOINT_URL_<SERVICE>`, then
 * `AWS_ENDPOINT_URL`) — the same variables the local stack sets for the SDK — or else the regional
 * host the SDK would pick in any partition, with `AWS_USE_FIPS_ENDPOINT` and
 * `AWS_USE_DUALSTACK_ENDPOINT` (see `endpointFor`).
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

/**
 * Partitions as the AWS SDK's partitions table has them (`partitionsInfo` in @aws-sdk/core, from
 * partitions.json): name, DNS suffix, dual-stack DNS suffix, region pattern. Order matters: the SDK
 * takes the first pattern that matches, and a region no pattern matches falls into `aws`. Each
 * partition's only listed region that its pattern misses is its `<name>-global` pseudo-region.
 * Every partition supports FIPS and dual-stack today; when one stops, the SDK throws and so must we
 * (test/unit/aws/light/endpoints.test.ts compares every region the SDK knows with its resolvers).
 */
const PARTITIONS: readonly (readonly [name: string, dnsSuffix: string, dualStackDnsSuffix: string, regionPattern: RegExp])[] = [
  ['aws', 'amazonaws.com', 'api.aws', /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/],
  ['aws-cn', 'amazonaws.com.cn', 'api.amazonwebservices.com.cn', /^cn-\w+-\d+$/],
  ['aws-eusc', 'amazonaws.eu', 'api.amazonwebservices.eu', /^eusc-de-\w+-\d+$/],
  ['aws-iso', 'c2s.ic.gov', 'api.aws.ic.gov', /^us-iso-\w+-\d+$/],
  ['aws-iso-b', 'sc2s.sgov.gov', 'api.aws.scloud', /^us-isob-\w+-\d+$/],
  ['aws-iso-e', 'cloud.adc-e.uk', 'api.cloud-aws.adc-e.uk', /^eu-isoe-\w+-\d+$/],
  ['aws-iso-f', 'csp.hci.ic.gov', 'api.aws.hci.ic.gov', /^us-isof-\w+-\d+$/],
  ['aws-us-gov', 'amazonaws.com', 'api.aws', /^us-gov-\w+-\d+$/],
];

/** What the SDK accepts as a region (@smithy's `isValidHostLabel`): anything else could change the host. */
const HOST_LABEL = /^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/;

/** `AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT`, read as the SDK reads them: "true", "false" or unset. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new AwsConfigError(`${name} must be "true" or "false", got ${JSON.stringify(value)}`);
}

/**
 * The endpoint for a service: an override from the environment, else the host the SDK's own
 * endpoint rules give for the region, `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT`.
 * Beyond the partition's suffixes, the three services' rule sets differ in two ways, kept here:
 * - SQS and DynamoDB in GovCloud: FIPS without dual-stack is the plain host (the SDK's rules treat
 *   GovCloud's standard SQS and DynamoDB hosts as the FIPS ones).
 * - Secrets Manager has no dual-stack host in `aws` and `aws-us-gov`, and in `aws-cn` only with
 *   FIPS: the flag is ignored there, as the SDK ignores it.
 * Refused though the SDK takes them (clear error rather than a host we would have to guess at):
 * FIPS pseudo-regions (`fips-us-east-1`, `us-east-1-fips`; the SDK signs those for another
 * region than the one named) and DynamoDB's `local` region (the SDK's DynamoDB Local shortcut):
 * set `AWS_ENDPOINT_URL_<SERVICE>` instead. (The SDK's SQS client also sends each call to its
 * QueueUrl's host when that differs; the light client keeps to this endpoint.)
 */
export function endpointFor(service: LightService, region: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[ENDPOINT_VARIABLE[service]] ?? env.AWS_ENDPOINT_URL;
  if (override) return override.replace(/\/+$/, '');
  let fips = flag(env, 'AWS_USE_FIPS_ENDPOINT');
  let dualStack = flag(env, 'AWS_USE_DUALSTACK_ENDPOINT');
  if (!HOST_LABEL.test(region)) throw new AwsConfigError(`AWS region ${JSON.stringify(region)} is not a valid host name label`);
  if (/^fips-|-fips$/.test(region)) {
    throw new AwsConfigError(`AWS region "${region}" is a FIPS pseudo-region, which keysmith's ingress client does not take; set the plain region and AWS_USE_FIPS_ENDPOINT=true`);
  }
  if (service === 'dynamodb' && region === 'local') {
    throw new AwsConfigError(`AWS region "local" (DynamoDB Local) is not supported by keysmith's ingress client; set ${ENDPOINT_VARIABLE.dynamodb} to the endpoint instead`);
  }
  const [name, dnsSuffix, dualStackDnsSuffix] = PARTITIONS.find((p) => region === `${p[0]}-global`) ?? PARTITIONS.find((p) => p[3].test(region)) ?? PARTITIONS[0]!;
  if (fips && !dualStack && name === 'aws-us-gov' && service !== 'secretsmanager') fips = false;
  if (dualStack && service === 'secretsmanager' && (name === 'aws' || name === 'aws-us-gov' || (name === 'aws-cn' && !fips))) dualStack = false;
  return `https://${service}${fips ? '-fips' : ''}.${region}.${dualStack ? dualStackDnsSuffix : dnsSuffix}`;
}
