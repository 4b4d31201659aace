import type { Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { type ApiRoute, createApiServer, PAYLOAD_LIMIT_BYTES } from '../../../lib/local/apiServer';
import { closeServer, listen } from '../../../lib/local/emulators';
import { rawRequest } from './support';

/** The HTTP API stand-in over real HTTP, with handlers that record what they were given. */

describe('local API server', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ route: string; event: APIGatewayProxyEventV2; context: Context }> = [];
  let reply: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2<unknown>> = async () => ({ statusCode: 200, body: 'ok' });

  const route = (provider: string, method: 'GET' | 'POST', path: string): ApiRoute => ({
    provider,
    method,
    path,
    handler: async (event, context) => {
      seen.push({ route: `${method} ${path}`, event, context });
      return reply(event);
    },
  });

  beforeAll(async () => {
    server = createApiServer({
      routes: [
        route('fastspring', 'POST', '/webhooks/fastspring'),
        route('selldone', 'POST', '/webhooks/selldone/{secret}'),
        route('selldone', 'GET', '/webhooks/selldone/{secret}'),
        route('static', 'POST', '/webhooks/selldone/fixed'),
        route('files', 'GET', '/files/{path+}'),
      ],
      stackInfo: () => ({ hello: 'stack' }),
    });
    base = `http://127.0.0.1:${await listen(server, 0)}`;
  });
  afterAll(() => closeServer(server));
  beforeEach(() => {
    seen.length = 0;
    reply = async () => ({ statusCode: 200, body: 'ok' });
  });

  it('builds a payload-format-2.0 event for a JSON POST', async () => {
    // Prepare
    const body = JSON.stringify({ events: [{ id: 'e1', note: 'grüße' }] });

    // Act
    const res = await rawRequest(`${base}/webhooks/fastspring?a=1&b=x%20y&a=2`, {
      method: 'POST',
      // A raw header list (node adds no Host or Content-Length to one).
      headers: [
        'Host',
        base.replace('http://', ''),
        'Content-Length',
        String(Buffer.byteLength(body)),
        'Content-Type',
        'application/json',
        'X-FS-Signature',
        'c2ln',
        'X-Dup',
        'one',
        'x-dup',
        'two',
        'Cookie',
        'a=1; b=2',
        'User-Agent',
        'FS-Webhook/1.0',
      ],
      body,
    });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
    expect(seen).toHaveLength(1);
    const { event, context } = seen[0]!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/fastspring',
      rawPath: '/webhooks/fastspring',
      rawQueryString: 'a=1&b=x%20y&a=2',
      queryStringParameters: { a: '1,2', b: 'x y' },
      cookies: ['a=1', 'b=2'],
      body,
      isBase64Encoded: false,
    });
    expect(event.pathParameters).toBeUndefined();
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-fs-signature': 'c2ln', 'x-dup': 'one,two', 'user-agent': 'FS-Webhook/1.0' });
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    const rc = event.requestContext;
    expect(rc).toMatchObject({
      accountId: '000000000000',
      apiId: 'local',
      routeKey: 'POST /webhooks/fastspring',
      stage: '$default',
      http: { method: 'POST', path: '/webhooks/fastspring', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'FS-Webhook/1.0' },
    });
    expect(rc.domainName).toBe(base.replace('http://', ''));
    expect(rc.requestId).toMatch(/^[A-Za-z0-9=]{16}$/);
    expect(Math.abs(rc.timeEpoch - Date.now())).toBeLessThan(5000);
    expect(rc.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(res.headers['apigw-requestid']).toBe(rc.requestId);
    expect(context.functionName).toBe('keysmith-fastspring');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', Buffer.from('hottok=abc&name=J%C3%BCrgen&raw=\xff', 'latin1')],
    [
      'a multipart',
      'multipart/form-data; boundary=xyz',
      Buffer.concat([Buffer.from('--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\n'), Buffer.from([0, 0xff, 0xfe, 0x80]), Buffer.from('\r\n--xyz--\r\n')]),
    ],
    ['a binary', 'application/octet-stream', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00])],
    ['an untyped', undefined, Buffer.from('no content type')],
    // Declared text, but not UTF-8: decoding would change the bytes a signature covers.
    ['a non-UTF-8 text', 'text/plain', Buffer.from([0x61, 0xff, 0x62])],
  ])('base64-encodes %s body and keeps every byte', async (_label, contentType, body) => {
    // Act
    const res = await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

    // Assess
    expect(res.status).toBe(200);
    const { event } = seen[0]!;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').equals(body)).toBe(true);
  });

  it('passes text types as UTF-8 strings and leaves out an empty body', async () => {
    await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST', headers: { 'content-type': 'application/vnd.api+json; charset=utf-8' }, body: '{"ü":1}' });
    await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST' });

    expect(seen[0]!.event).toMatchObject({ body: '{"ü":1}', isBase64Encoded: false });
    expect(seen[1]!.event.body).toBeUndefined();
    expect(seen[1]!.event.isBase64Encoded).toBe(false);
  });

  it('matches {param} and {param+} segments, preferring a static route', async () => {
    await rawRequest(`${base}/webhooks/selldone/s3cr%C3%A9t`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await rawRequest(`${base}/webhooks/selldone/abc?x=1`);
    await rawRequest(`${base}/webhooks/selldone/fixed`, { method: 'POST' });
    await rawRequest(`${base}/files/a/b/c.txt`);

    expect(seen.map((s) => s.route)).toEqual(['POST /webhooks/selldone/{secret}', 'GET /webhooks/selldone/{secret}', 'POST /webhooks/selldone/fixed', 'GET /files/{path+}']);
    expect(seen[0]!.event.pathParameters).toEqual({ secret: 's3crét' });
    expect(seen[0]!.event.rawPath).toBe('/webhooks/selldone/s3cr%C3%A9t');
    expect(seen[1]!.event).toMatchObject({ routeKey: 'GET /webhooks/selldone/{secret}', pathParameters: { secret: 'abc' }, queryStringParameters: { x: '1' } });
    expect(seen[2]!.event.pathParameters).toBeUndefined();
    expect(seen[3]!.event.pathParameters).toEqual({ path: 'a/b/c.txt' });
  });

  it('answers 404 for an unknown route and 405 for a known path with another method', async () => {
    const unknown = await rawRequest(`${base}/webhooks/nope`, { method: 'POST' });
    const extraSegment = await rawRequest(`${base}/webhooks/fastspring/extra`, { method: 'POST' });
    const emptyParam = await rawRequest(`${base}/webhooks/selldone/`, { method: 'POST' });
    const wrongMethod = await rawRequest(`${base}/webhooks/fastspring`, { method: 'GET' });

    expect([unknown.status, extraSegment.status, emptyParam.status]).toEqual([404, 404, 404]);
    expect(JSON.parse(unknown.body.toString())).toEqual({ message: 'Not Found' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(JSON.parse(wrongMethod.body.toString())).toEqual({ message: 'Method Not Allowed' });
    expect(seen).toHaveLength(0);
  });

  it(`rejects bodies over API Gateway's ${PAYLOAD_LIMIT_BYTES} bytes with 413 and accepts the limit itself`, async () => {
    const atLimit = await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(PAYLOAD_LIMIT_BYTES, 1) });
    const over = await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(PAYLOAD_LIMIT_BYTES + 1, 1) });

    expect(atLimit.status).toBe(200);
    expect(Buffer.from(seen[0]!.event.body!, 'base64').length).toBe(PAYLOAD_LIMIT_BYTES);
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body.toString())).toEqual({ message: 'Request Entity Too Large' });
    expect(seen).toHaveLength(1);
  });

  it('counts streamed bytes when no content-length is declared', async () => {
    const small = createApiServer({ routes: [route('fastspring', 'POST', '/webhooks/fastspring')], payloadLimitBytes: 1000 });
    const url = `http://127.0.0.1:${await listen(small, 0)}/webhooks/fastspring`;
    try {
      const res = await rawRequest(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: Buffer.alloc(1001) });
      expect(res.status).toBe(413);
      expect(seen).toHaveLength(0);
    } finally {
      await closeServer(small);
    }
  });

  it('turns a throwing handler into API Gateway’s 500 and writes results as given', async () => {
    reply = async () => {
      throw new Error('boom');
    };
    const failed = await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST' });

    reply = async () => ({
      statusCode: 202,
      headers: { 'content-type': 'application/octet-stream', 'x-n': 7 },
      cookies: ['s=1; Path=/'],
      body: Buffer.from([0, 0xff, 1]).toString('base64'),
      isBase64Encoded: true,
    });
    const binary = await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST' });

    reply = async () => 'plain string';
    const inferred = await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST' });

    reply = async () => ({ statusCode: 'nope' }) as never;
    const invalid = await rawRequest(`${base}/webhooks/fastspring`, { method: 'POST' });

    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body.toString())).toEqual({ message: 'Internal Server Error' });
    expect(binary.status).toBe(202);
    expect([...binary.body]).toEqual([0, 0xff, 1]);
    expect(binary.headers['x-n']).toBe('7');
    expect(binary.headers['set-cookie']).toEqual(['s=1; Path=/']);
    expect(inferred.status).toBe(200);
    expect(inferred.headers['content-type']).toBe('application/json');
    expect(inferred.body.toString()).toBe('plain string');
    expect(invalid.status).toBe(500);
  });

  it('serves /_local/health and /_local/stack', async () => {
    const health = await rawRequest(`${base}/_local/health`);
    const stack = await rawRequest(`${base}/_local/stack`);
    const post = await rawRequest(`${base}/_local/stack`, { method: 'POST' });

    expect(JSON.parse(health.body.toString())).toEqual({ status: 'ok' });
    expect(JSON.parse(stack.body.toString())).toEqual({ hello: 'stack' });
    expect(post.status).toBe(405);
  });
});
