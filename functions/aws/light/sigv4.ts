import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 (header form), the part the ingress needs and nothing more: node:crypto
 * HMAC-SHA256, no dependencies. Checked against AWS's published SigV4 test suite
 * (test/unit/aws/light/sigv4.test.ts) and against the SDK's own signer for JSON-protocol requests.
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for temporary credentials (what Lambda gives a function). */
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  url: URL;
  /** Headers to sign and send; names in any case. `host` is added from the URL. */
  headers: Record<string, string>;
  body: string | Buffer;
  /** Signing name, e.g. `sqs`, `dynamodb`, `secretsmanager`. */
  service: string;
  region: string;
  credentials: Credentials;
  /** @default new Date() */
  date?: Date;
}

export interface Signed {
  /** The headers to send: the input's, plus host, x-amz-date, x-amz-security-token, authorization. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export function sign(input: SignInput): Signed {
  const date = input.date ?? new Date();
  const amzDate = date.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value;
  headers.host ??= input.url.host;
  headers['x-amz-date'] = amzDate;
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((name) => `${name}:${canonicalHeaderValue(headers[name]!)}\n`).join('');
  const canonicalRequest = [input.method.toUpperCase(), canonicalUri(input.url.pathname), canonicalQuery(input.url.searchParams), canonicalHeaders, signedHeaders, sha256Hex(input.body)].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac('sha256', signingKey(input.credentials.secretAccessKey, day, input.region, input.service))
    .update(stringToSign)
    .digest('hex');
  headers.authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign };
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The derived key changes once a day per region and service: four HMACs saved per request. */
let keyCache: { id: string; key: Buffer } | undefined;

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${secret}\n${day}\n${region}\n${service}`;
  if (keyCache?.id === id) return keyCache.key;
  const kDate = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  const key = createHmac('sha256', kService).update('aws4_request').digest();
  keyCache = { id, key };
  return key;
}

/** Trim, and fold runs of spaces into one (SigV4 "Trimall"). */
function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/** RFC 3986 encoding: everything but unreserved characters, as SigV4 wants it. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Each segment of the path, decoded and then encoded once. The JSON-protocol calls keysmith makes
 * all go to `/`; this is what the test suite's path cases expect.
 */
function canonicalUri(pathname: string): string {
  if (pathname === '' || pathname === '/') return '/';
  return pathname
    .split('/')
    .map((segment) => encodeRfc3986(safeDecode(segment)))
    .join('/');
}

function canonicalQuery(params: URLSearchParams): string {
  const pairs: [string, string][] = [];
  for (const [key, value] of params) pairs.push([encodeRfc3986(key), encodeRfc3986(value)]);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
