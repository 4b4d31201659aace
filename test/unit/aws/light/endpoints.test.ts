import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { partition as sdkPartition } from '@aws-sdk/core/client';
import { booleanSelector, SelectorType } from '@smithy/core/config';
import { endpointFor, type LightService } from '../../../../functions/aws/light/config';
import { AwsConfigError } from '../../../../functions/aws/light/errors';

/**
 * The light client's endpoints against the AWS SDK's own: for every region in the SDK's
 * partitions table (plus one unlisted region per partition that its pattern matches), each of the
 * three services, FIPS on/off × dual-stack on/off, `endpointFor` must give the URL the client's
 * own endpoint resolver gives, or both must refuse. The table and the resolvers are read from the
 * installed SDK, so an SDK update that moves a host or adds a partition fails here.
 */

type Resolver = (params: { Region: string; UseFIPS: boolean; UseDualStack: boolean }) => { url: URL };

/** Each client's `defaultEndpointResolver`: what it uses when no `endpointProvider` is given. */
const RESOLVERS: Record<LightService, Resolver> = {
  sqs: new SQSClient({ region: 'us-east-1' }).config.endpointProvider as unknown as Resolver,
  dynamodb: new DynamoDBClient({ region: 'us-east-1' }).config.endpointProvider as unknown as Resolver,
  secretsmanager: new SecretsManagerClient({ region: 'us-east-1' }).config.endpointProvider as unknown as Resolver,
};
const SERVICES = Object.keys(RESOLVERS) as LightService[];
const FLAGS = [
  { fips: false, dualStack: false },
  { fips: false, dualStack: true },
  { fips: true, dualStack: false },
  { fips: true, dualStack: true },
];

interface SdkPartition {
  id: string;
  outputs: { name: string; dnsSuffix: string; dualStackDnsSuffix: string };
  regionRegex: string;
  regions: Record<string, unknown>;
}

/**
 * The partitions table the SDK clients resolve with. @aws-sdk/core keeps it in a module constant
 * it does not export, so it is read from the very file the SQS client loads; the cross-check
 * below (each listed region's partition per the SDK's exported `partition()`) proves it is that table.
 */
function sdkPartitions(): SdkPartition[] {
  const file = require.resolve('@aws-sdk/core/client', { paths: [dirname(require.resolve('@aws-sdk/client-sqs'))] });
  const literal = /const partitionsInfo = (\{[\s\S]*?\n\});/.exec(readFileSync(file, 'utf8'));
  if (!literal) throw new Error(`no partitions table in ${file}`);
  return (JSON.parse(literal[1]!) as { partitions: SdkPartition[] }).partitions;
}

function lightUrl(service: LightService, region: string, fips: boolean, dualStack: boolean): string {
  const env = { AWS_USE_FIPS_ENDPOINT: String(fips), AWS_USE_DUALSTACK_ENDPOINT: String(dualStack) };
  return new URL(endpointFor(service, region, env)).href;
}

function outcome(run: () => string): string {
  try {
    return run();
  } catch (error) {
    return `throws${error instanceof AwsConfigError ? '' : ` (not AwsConfigError: ${(error as Error).message})`}`;
  }
}

/** Compares light and SDK on every (region, service, flags); returns the differences and the count. */
function compare(regions: string[]): { differences: string[]; cases: number } {
  const differences: string[] = [];
  let cases = 0;
  for (const region of regions) {
    for (const service of SERVICES) {
      for (const { fips, dualStack } of FLAGS) {
        cases++;
        const sdk = outcome(() => RESOLVERS[service]({ Region: region, UseFIPS: fips, UseDualStack: dualStack }).url.href);
        const light = outcome(() => lightUrl(service, region, fips, dualStack));
        if (light !== sdk) differences.push(`${service} ${region} fips=${fips} dualStack=${dualStack}: light ${light}, SDK ${sdk}`);
      }
    }
  }
  return { differences, cases };
}

describe('light client endpoints, against the SDK', () => {
  const partitions = sdkPartitions();

  it('reads the SDK partitions table the clients use', () => {
    // Assess: the eight partitions the issue names, each listed region in the partition the SDK puts it in
    expect(partitions.map((p) => p.id)).toEqual(expect.arrayContaining(['aws', 'aws-cn', 'aws-eusc', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-us-gov']));
    for (const p of partitions) {
      for (const region of Object.keys(p.regions))
        expect(sdkPartition(region)).toMatchObject({ name: p.outputs.name, dnsSuffix: p.outputs.dnsSuffix, dualStackDnsSuffix: p.outputs.dualStackDnsSuffix });
    }
  });

  it('gives the SDK’s URL for every region the SDK knows, every service, FIPS × dual-stack', () => {
    // Prepare: every listed region, and per partition one unlisted region its pattern alone places
    const listed = partitions.flatMap((p) => Object.keys(p.regions));
    const synthetic = partitions.map((p) => {
      const sample = Object.keys(p.regions).find((r) => new RegExp(p.regionRegex).test(r))!;
      const region = sample.replace(/-\w+-\d+$/, '-south-9');
      expect(listed).not.toContain(region);
      expect(sdkPartition(region).name).toBe(p.outputs.name);
      return region;
    });

    // Act
    const { differences, cases } = compare([...listed, ...synthetic]);

    // Assess: nothing differs, and the cases cover every partition (55 listed regions + 8 today: 756 cases)
    expect(differences).toEqual([]);
    expect(cases).toBe((listed.length + synthetic.length) * SERVICES.length * FLAGS.length);
    expect(cases).toBeGreaterThanOrEqual(700);
    expect(new Set([...listed, ...synthetic].map((r) => sdkPartition(r).name))).toEqual(new Set(partitions.map((p) => p.outputs.name)));
  });

  it('places regions no partition lists or matches as the SDK does (in aws)', () => {
    // Prepare: a pattern-less name, one that only looks like GovCloud, and upper case
    const regions = ['mars-1', 'us-gov-1', 'US-EAST-1', 'US-GOV-WEST-1', 'eusc-fr-east-1'];

    // Act
    const { differences, cases } = compare(regions);

    // Assess
    expect(differences).toEqual([]);
    expect(cases).toBe(60);
  });

  it('refuses what the SDK resolves only through shortcuts the light client does not take', async () => {
    // Prepare: the SDK maps DynamoDB's "local" to DynamoDB Local, and FIPS pseudo-regions to FIPS on another region
    const local = RESOLVERS.dynamodb({ Region: 'local', UseFIPS: false, UseDualStack: false }).url.href;
    const pseudo = new SQSClient({ region: 'us-east-1-fips' });

    // Act / Assess: the SDK resolves them …
    expect(local).toBe('http://localhost:8000/');
    expect(await pseudo.config.region()).toBe('us-east-1');
    expect(await pseudo.config.useFipsEndpoint()).toBe(true);
    // … the light client says what to set instead
    expect(() => endpointFor('dynamodb', 'local', {})).toThrow(
      new AwsConfigError(`AWS region "local" (DynamoDB Local) is not supported by keysmith's ingress client; set AWS_ENDPOINT_URL_DYNAMODB to the endpoint instead`),
    );
    expect(() => endpointFor('sqs', 'us-east-1-fips', {})).toThrow(/AWS_USE_FIPS_ENDPOINT=true/);
    expect(() => endpointFor('sqs', 'fips-us-east-1', {})).toThrow(AwsConfigError);
    // "local" is DynamoDB's alone: SQS resolves it in aws, like the SDK
    expect(compare(['local']).differences.filter((d) => !d.startsWith('dynamodb '))).toEqual([]);
  });

  it('refuses a region that is not a host label, as the SDK client does', async () => {
    for (const region of ['us-east-1.evil.example', 'us-east-1/x', 'a_b', '-us-east-1', 'us-east-1-']) {
      // Act / Assess
      await expect(new SQSClient({ region }).config.region()).rejects.toThrow('Region not accepted');
      expect(() => endpointFor('sqs', region, {})).toThrow(AwsConfigError);
    }
  });

  it('reads the FIPS and dual-stack variables as the SDK does: "true", "false" or unset', () => {
    for (const value of ['true', 'false', 'TRUE', '1', '', ' true']) {
      // Prepare
      const env = { AWS_USE_FIPS_ENDPOINT: value, AWS_USE_DUALSTACK_ENDPOINT: value };
      const sdk = outcome(() => String(booleanSelector(env, 'AWS_USE_FIPS_ENDPOINT', SelectorType.ENV)));

      // Act
      const light = outcome(() => endpointFor('sqs', 'eu-west-1', env));

      // Assess
      expect(light.startsWith('throws')).toBe(sdk.startsWith('throws'));
      if (value === 'true') expect(light).toBe('https://sqs-fips.eu-west-1.api.aws');
      if (value === 'false') expect(light).toBe('https://sqs.eu-west-1.amazonaws.com');
    }
    expect(endpointFor('sqs', 'eu-west-1', {})).toBe('https://sqs.eu-west-1.amazonaws.com');
  });

  it('keeps endpoint overrides first, whatever the flags say', () => {
    expect(endpointFor('sqs', 'us-gov-west-1', { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324/', AWS_USE_FIPS_ENDPOINT: 'true', AWS_USE_DUALSTACK_ENDPOINT: 'true' })).toBe('http://127.0.0.1:9324');
  });
});
