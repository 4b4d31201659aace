import { createHash, createPrivateKey, sign } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DynamoLicenseApiStore } from '../../functions/aws/licenseApiStore';
import type { AwsJsonClient } from '../../functions/aws/light/AwsJsonClient';
import { dynamodbClient } from '../../functions/aws/light/dynamodb';
import { createLicensingHandler, type LicensingHandler } from '../../functions/licensing/handler';
import { muteStdout } from './benchStack';
import { type CpuOptions, DEFAULT_CPU, interleaved, type Percentiles } from './cpu';
import { type BenchSecrets, benchSecrets, licenseFixture, licensingApiEvent } from './fixtures';

/**
 * License API CPU per validate (warm): the licensing handler as Lambda runs it — the API Gateway
 * event parsed, the key hashed, the store's Query answered, the view and activations read, the
 * decision, the license file signed (Ed25519), the answer serialized, the log line formatted —
 * with the DynamoDB port answering at once, against the **floor** any implementation of the
 * route must pay: sha256 of the key plus one Ed25519 signature over a license-file-sized payload
 * (the signing input of the license file this run's handler returned). Interleaved in rounds on
 * one thread, as the ingress CPU bench does.
 */

export interface LicensingCpuResult {
  /** The handler with the DynamoDB client stubbed (input serialized, the answer parsed; no signing, no socket). */
  handler: Percentiles;
  /** The same handler with the real light client over an instant transport (SigV4 signing and JSON protocol included). */
  lightClient: Percentiles;
  floor: Percentiles;
  /** handler p50 / floor p50. */
  ratio: number;
  lightClientRatio: number;
  /** Bytes of the JWS signing input (header.payload) the floor signs. */
  signedBytes: number;
  samples: number;
}

let sink = 0;

export async function licensingCpu(options: CpuOptions = DEFAULT_CPU, secrets: BenchSecrets = benchSecrets()): Promise<LicensingCpuResult> {
  const license = await licenseFixture(secrets);
  const pem = secrets.handler.KEYSMITH_LICENSE_SIGNING_KEY;
  if (!pem) throw new Error('the bench secrets have no license signing key');
  // What DynamoDB answers to the handler's Query of this license's partition.
  const answer = JSON.stringify({ Items: license.items, Count: license.items.length, ScannedCount: license.items.length });

  // The handler reads its secrets from the environment when no secret ARN is set (as locally).
  const saved = { pem: process.env.KEYSMITH_LICENSE_SIGNING_KEY, arn: process.env.KEYSMITH_SECRET_ARN };
  process.env.KEYSMITH_LICENSE_SIGNING_KEY = pem;
  delete process.env.KEYSMITH_SECRET_ARN;
  const muted = muteStdout();
  try {
    const stubbed: Pick<AwsJsonClient, 'call'> = {
      call: async <T>(operation: string, input: unknown): Promise<T> => {
        if (operation !== 'Query') throw new Error(`licensing CPU: unexpected ${operation}`);
        sink += JSON.stringify(input).length;
        return JSON.parse(answer) as T;
      },
    };
    const stubbedStore = new DynamoLicenseApiStore(stubbed as AwsJsonClient, 'keysmith');
    const light = dynamodbClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'bench-session-token' }),
      transport: async () => ({ status: 200, headers: {}, body: Buffer.from(answer) }),
    });
    const lightStore = new DynamoLicenseApiStore(light, 'keysmith');
    const withStub = createLicensingHandler({ store: () => stubbedStore });
    const withLight = createLicensingHandler({ store: () => lightStore });
    const events = Array.from({ length: 200 }, (_, i) => licensingApiEvent('validate', { license_key: license.key }, `bench-validate-${i}`));

    // The payload the floor signs: exactly what this handler signs for this license.
    const first = await withStub(events[0]!);
    const body = JSON.parse(String(first.body)) as { valid?: boolean; code?: string; license_file?: string };
    if (first.statusCode !== 200 || body.valid !== true || !body.license_file) throw new Error(`licensing CPU: the validate answered ${first.statusCode} ${String(first.body).slice(0, 200)}`);
    const signingInput = Buffer.from(body.license_file.slice(0, body.license_file.lastIndexOf('.')));
    const privateKey = createPrivateKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem);
    const floor = (event: APIGatewayProxyEventV2): void => {
      const key = new URLSearchParams(event.body ?? '').get('license_key') ?? '';
      sink += createHash('sha256').update(key).digest()[0]!;
      sink += sign(null, signingInput, privateKey)[0]!;
    };
    const run =
      (handler: LicensingHandler) =>
      async (event: APIGatewayProxyEventV2): Promise<void> => {
        const result = await handler(event);
        if (result.statusCode !== 200) throw new Error(`licensing CPU: the validate answered ${result.statusCode}`);
        sink += String(result.body).length;
      };
    const variants: Array<(event: APIGatewayProxyEventV2) => unknown> = [run(withStub), run(withLight), floor];
    const { percentiles, samples } = await interleaved(variants, events, options);
    const [h, l, f] = percentiles as [Percentiles, Percentiles, Percentiles];
    if (sink === -1) console.log(sink);
    return { handler: h, lightClient: l, floor: f, ratio: h.p50 / f.p50, lightClientRatio: l.p50 / f.p50, signedBytes: signingInput.length, samples };
  } finally {
    muted.restore();
    if (saved.pem === undefined) delete process.env.KEYSMITH_LICENSE_SIGNING_KEY;
    else process.env.KEYSMITH_LICENSE_SIGNING_KEY = saved.pem;
    if (saved.arn !== undefined) process.env.KEYSMITH_SECRET_ARN = saved.arn;
  }
}
