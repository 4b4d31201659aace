import { SignatureV4 } from '@smithy/signature-v4';
import * as fc from 'fast-check';
import { type Credentials, sign } from '../../../../functions/aws/light/sigv4';
import { NodeSha256 } from '../../../helpers/nodeSha256';

/**
 * The light SigV4 signer against AWS's published Signature Version 4 test suite (the
 * `aws-sig-v4-test-suite` files: request, canonical request, string to sign, Authorization
 * header) and against the AWS SDK's own signer (@smithy/signature-v4) for the JSON-protocol
 * requests keysmith actually sends.
 */

const SUITE_CREDENTIALS: Credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_DATE = new Date('2015-08-30T12:36:00Z');
const SUITE_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';

interface SuiteCase {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  sessionToken?: string;
  creq?: string;
  sts?: string;
  authz: string;
}

const AUTHZ = (signedHeaders: string, signature: string) => `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`;

const SUITE: SuiteCase[] = [
  { name: 'get-vanilla', method: 'GET', path: '/', authz: AUTHZ('host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31') },
  { name: 'post-vanilla', method: 'POST', path: '/', authz: AUTHZ('host;x-amz-date', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b') },
  {
    name: 'get-vanilla-query-order-key',
    method: 'GET',
    path: '/?Param1=value2&Param1=Value1',
    creq: 'GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    sts: 'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89',
    authz: AUTHZ('host;x-amz-date', 'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1'),
  },
  { name: 'get-utf8', method: 'GET', path: '/ሴ', authz: AUTHZ('host;x-amz-date', '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85') },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    path: '/',
    headers: { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' },
    authz: AUTHZ('host;my-header1;my-header2;x-amz-date', 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736'),
  },
  {
    name: 'post-header-key-sort',
    method: 'POST',
    path: '/',
    headers: { 'My-Header1': 'value1' },
    authz: AUTHZ('host;my-header1;x-amz-date', 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c'),
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    path: '/',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    creq: 'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    sts: 'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281',
    authz: AUTHZ('content-type;host;x-amz-date', 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a'),
  },
  {
    name: 'post-sts-header-before',
    method: 'POST',
    path: '/',
    sessionToken: SUITE_TOKEN,
    authz: AUTHZ('host;x-amz-date;x-amz-security-token', '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead'),
  },
];

describe('SigV4 against the AWS test suite', () => {
  it.each(SUITE.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    // Act
    const signed = sign({
      method: c.method,
      url: new URL(`https://example.amazonaws.com${c.path}`),
      headers: c.headers ?? {},
      body: c.body ?? '',
      service: 'service',
      region: 'us-east-1',
      credentials: { ...SUITE_CREDENTIALS, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) },
      date: SUITE_DATE,
    });

    // Assess
    if (c.creq) expect(signed.canonicalRequest).toBe(c.creq);
    if (c.sts) expect(signed.stringToSign).toBe(c.sts);
    expect(signed.headers.authorization).toBe(c.authz);
    expect(signed.headers['x-amz-date']).toBe('20150830T123600Z');
    if (c.sessionToken) expect(signed.headers['x-amz-security-token']).toBe(c.sessionToken);
  });
});

describe('SigV4 against the AWS SDK signer', () => {
  it('signs JSON-protocol requests exactly like @smithy/signature-v4', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          target: fc.constantFrom('AmazonSQS.SendMessageBatch', 'DynamoDB_20120810.BatchWriteItem', 'secretsmanager.GetSecretValue'),
          region: fc.constantFrom('us-east-1', 'eu-central-1', 'ap-southeast-2', 'cn-north-1'),
          service: fc.constantFrom('sqs', 'dynamodb', 'secretsmanager'),
          body: fc.string({ unit: 'grapheme', maxLength: 300 }),
          token: fc.option(fc.base64String({ minLength: 20, maxLength: 200 }), { nil: undefined }),
          at: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }),
          port: fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }),
        }),
        async ({ target, region, service, body, token, at, port }) => {
          // Prepare
          const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', ...(token ? { sessionToken: token } : {}) };
          const host = `${service}.${region}.amazonaws.com${port ? `:${port}` : ''}`;
          const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target };
          const sdk = new SignatureV4({ service, region, credentials, sha256: NodeSha256, applyChecksum: false });

          // Act
          const ours = sign({ method: 'POST', url: new URL(`https://${host}/`), headers, body, service, region, credentials, date: at });
          const theirs = await sdk.sign(
            { method: 'POST', protocol: 'https:', hostname: host.split(':')[0]!, ...(port ? { port } : {}), path: '/', query: {}, headers: { ...headers, host }, body },
            { signingDate: at },
          );

          // Assess
          expect(ours.headers.authorization).toBe(theirs.headers.authorization);
        },
      ),
      { numRuns: 300 },
    );
  });
});
