import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DynamoFailureLog } from '../../functions/aws/failureLog';
import { fulfillmentEventSchema } from '../../functions/domain/eventSchema';
import { awsTarget, type LocalStackInfo, localTarget, type Target } from '../../lib/cli/target';
import { type RunningConsole, startConsole } from '../../lib/console/server';
import { startFakeAws } from '../integration/cli/fakeAws';
import { type Harness, startHarness } from '../integration/e2e/support';
import { eventually } from '../integration/local/support';

/**
 * `keysmith console` in a real browser (Debian's chromium driven by playwright-core) over a real
 * local stack: orders sent through the webhooks, then search, an order's page, a revocation with
 * its confirmation, a replay, a dead letter redriven — and the security gates from outside.
 * Screenshots of every page go to artifacts/console/ (gitignored).
 */

const CHROMIUM = process.env.KEYSMITH_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../artifacts/console');
const ROOT = resolve(__dirname, '../..');
const HOSTILE = '<img src=x onerror=alert(1)>';
/** The products of FastSpring's sample order (functions/providers/fastspring/fixtures). */
const FASTSPRING_PRODUCTS = ['falcon-plus-bonus-package-annual-subscription-individual-license', 'falcon-plus-bonus-package-individual-license'];

jest.setTimeout(90_000);

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly the headers given (fetch would not let a test forge Host). */
function raw(port: number, path: string, headers: Record<string, string>, method = 'GET', body = ''): Promise<Raw> {
  return new Promise((ok, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('keysmith console', () => {
  let h: Harness;
  let target: Target;
  let consoleServer: RunningConsole;
  let browser: Browser;
  let page: Page;
  const orders: { fastspring: string; email: string; paddle: string; hostile: string; hostileEmail: string; dead: string; dead2: string } = {} as never;
  const alerts: string[] = [];
  let configDir: string | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: \`apt-get install -y chromium\` (what .ci/run does), or set KEYSMITH_CHROMIUM`);
    mkdirSync(ARTIFACTS, { recursive: true });
    // The example catalog without its catch-all: the samples' products are matched, any other
    // product id is refused (UNKNOWN_PRODUCT, a problem the overview lists).
    const example = JSON.parse(readFileSync(join(ROOT, 'config/keysmith.example.json'), 'utf8'));
    delete example.defaultProduct;
    example.products.default.match = { fastspring: [...FASTSPRING_PRODUCTS], paddle: ['47023'] };
    // The samples are test orders: let their licenses activate through the license API.
    example.products.default.licenseApi = { allowTest: true };
    configDir = mkdtempSync(join(tmpdir(), 'keysmith-console-'));
    writeFileSync(join(configDir, 'keysmith.config.json'), JSON.stringify(example));
    h = await startHarness({ configPath: join(configDir, 'keysmith.config.json') });
    // Orders through the real webhooks: a FastSpring order (two licenses, one email), a Paddle
    // one, and one whose customer name is markup.
    const stamp = Date.now();
    orders.email = `ada-${stamp}@example.com`;
    const fs = await h.sample('fastspring', { email: orders.email });
    orders.fastspring = fs.orderId;
    const paddle = await h.sample('paddle');
    orders.paddle = paddle.orderId;
    const fixture = JSON.parse(readFileSync(join(ROOT, 'functions/providers/fastspring/fixtures/order-completed.json'), 'utf8'));
    const data = fixture.events[0].data;
    orders.hostile = `HOSTILE${stamp}`;
    orders.hostileEmail = `mallory-${stamp}@example.com`;
    Object.assign(data, { id: orders.hostile, order: orders.hostile, reference: `REF-${stamp}` });
    Object.assign(data.customer, { first: HOSTILE, last: '"quoted"', email: orders.hostileEmail });
    for (const item of data.items) item.product = 'mystery-product';
    fixture.events[0].id = `evt-hostile-${stamp}`;
    const hostile = await h.sample('fastspring', { file: Buffer.from(JSON.stringify(fixture)) });
    for (const request of [fs, paddle, hostile]) expect((await h.send(request)).status).toBe(200);
    // One more webhook with a broken signature: a rejection the overview counts.
    expect((await h.send(fs, (body) => Buffer.concat([body, Buffer.from(' ')]))).status).toBe(401);
    await h.stack.poller.drain();

    // An app activates the FastSpring order's second license on one machine (the license API).
    const second = (await h.store.findByOrder('fastspring', orders.fastspring))[0]!.state.licenses[1]!;
    const activated = await fetch(`${h.stack.licensingUrl}/v1/licenses/activate`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ license_key: second.key, instance_name: 'Ada’s <b>laptop</b>' }),
    });
    expect(activated.status).toBe(200);

    // Two dead letters: valid events the worker never saw, with the last error it would have logged.
    orders.dead = `DEAD${stamp}`;
    orders.dead2 = `DEADTOO${stamp}`;
    for (const scope of [orders.dead, orders.dead2]) {
      const event = fulfillmentEventSchema.parse({
        provider: 'fastspring',
        eventId: `evt-${scope}`,
        occurredAt: new Date().toISOString(),
        action: 'grant',
        reason: 'order.completed',
        scope,
        live: false,
        customer: { email: `dead-${scope}@example.com` },
        items: [{ productId: FASTSPRING_PRODUCTS[1], quantity: 1 }],
      });
      const sent = await h.sqs.send(
        new SendMessageCommand({ QueueUrl: h.stack.dlqUrl, MessageBody: JSON.stringify(event), MessageGroupId: `fastspring#${scope}`, MessageDeduplicationId: `dead-${scope}` }),
      );
      await new DynamoFailureLog(h.dynamo, h.stack.tableName).record({
        messageId: sent.MessageId!,
        provider: 'fastspring',
        eventId: event.eventId,
        scope,
        receiveCount: 5,
        error: { name: 'TimeoutError', message: 'SES did not answer within 10 s' },
        at: new Date(),
      });
    }

    target = localTarget(h.stack.info() as LocalStackInfo);
    consoleServer = await startConsole({ target, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on('dialog', (dialog) => {
      alerts.push(dialog.message());
      void dialog.dismiss();
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await consoleServer?.close();
    target?.close();
    await h?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const base = () => `http://127.0.0.1:${consoleServer.port}`;

  describe('security, from outside', () => {
    it('answers 401 without the token, and the page with it (setting an HttpOnly SameSite=Strict cookie)', async () => {
      const host = { host: `127.0.0.1:${consoleServer.port}` };
      expect((await raw(consoleServer.port, '/', host)).status).toBe(401);
      expect((await raw(consoleServer.port, `/search?q=${orders.fastspring}`, host)).status).toBe(401);
      expect((await raw(consoleServer.port, '/?token=wrong', host)).status).toBe(401);
      const ok = await raw(consoleServer.port, `/search?q=${orders.fastspring}&token=${consoleServer.token}`, host);
      expect(ok.status).toBe(200);
      expect(ok.body).toContain(orders.fastspring);
      expect(String(ok.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
      expect(ok.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
      // The cookie alone is enough afterwards.
      const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
      expect((await raw(consoleServer.port, '/dlq', { ...host, cookie })).status).toBe(200);
      // localhost:PORT is the console's own name too.
      expect((await raw(consoleServer.port, `/?token=${consoleServer.token}`, { host: `localhost:${consoleServer.port}` })).status).toBe(200);
    });

    it('listens on 127.0.0.1 only', async () => {
      expect(consoleServer.address).toBe('127.0.0.1');
      // From any other address of this machine, nothing answers.
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((i) => i && i.family === 'IPv4' && !i.internal)
        .map((i) => i!.address);
      for (const address of others) {
        await expect(fetch(`http://${address}:${consoleServer.port}/`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
      }
    });

    it('answers 403 to any other Host, token or not (DNS rebinding)', async () => {
      for (const host of [`evil.example:${consoleServer.port}`, '127.0.0.1', `127.0.0.1:${consoleServer.port + 1}`, `0.0.0.0:${consoleServer.port}`]) {
        expect((await raw(consoleServer.port, `/?token=${consoleServer.token}`, { host })).status).toBe(403);
      }
    });

    it('answers 403 to a cross-origin POST, even with the token', async () => {
      const form = { host: `127.0.0.1:${consoleServer.port}`, 'content-type': 'application/x-www-form-urlencoded' };
      const path = `/dlq/redrive?token=${consoleServer.token}`;
      expect((await raw(consoleServer.port, path, { ...form, origin: 'http://evil.example' }, 'POST', 'all=yes&confirmed=yes')).status).toBe(403);
      expect((await raw(consoleServer.port, path, form, 'POST', 'all=yes&confirmed=yes')).status).toBe(403);
      // And from a real browser page of another origin: chromium sends its Origin, the console refuses.
      const attacker = await browser.newPage();
      await attacker.setContent(`<form method="post" action="${base()}${path}"><input name="all" value="yes"><input name="confirmed" value="yes"></form>`);
      const [response] = await Promise.all([attacker.waitForNavigation(), attacker.evaluate('document.forms[0].submit()')]);
      expect(response?.status()).toBe(403);
      await attacker.close();
      // Nothing was redriven.
      expect(await h.queueDepth(h.stack.dlqUrl)).toBe(2);
    });
  });

  describe('bad input', () => {
    it('answers 4xx with a reason, never 5xx', async () => {
      const long = 'x'.repeat(3000);
      const host = { host: `127.0.0.1:${consoleServer.port}` };
      const gets = [
        `/search?q=${long}`,
        `/search?q=${encodeURIComponent('é'.repeat(300))}`,
        `/order/fastspring/${long}`,
        '/order/nope/1',
        '/order/fastspring/%E0%A4%A',
        '/order/fastspring/no-such-order',
        `/delivery/paddle/${long}`,
        '/delivery/paddle/no-such-delivery',
        '/deliveries?since=yesterday',
        '/deliveries?provider=no-such-shop',
        '/deliveries?status=lost',
        '/deliveries?since=1h&until=2000-01-01',
        '/dlq/no-such-message',
        '/no/such/page',
      ];
      const answers = await Promise.all(gets.map(async (path) => ({ path, ...(await raw(consoleServer.port, `${path}${path.includes('?') ? '&' : '?'}token=${consoleServer.token}`, host)) })));
      // Each with its reason, none a server error.
      expect(answers.filter((a) => a.status < 400 || a.status >= 500 || a.body.length === 0).map((a) => `${a.path}: ${a.status}`)).toEqual([]);
      const form = { ...host, origin: `http://127.0.0.1:${consoleServer.port}`, 'content-type': 'application/x-www-form-urlencoded' };
      const posts: [string, string, Record<string, string>?][] = [
        ['/license/lic_nope/change', 'action=revoke&reason=x&confirmed=yes'],
        ['/license/lic_nope/change', 'action=explode&reason=x'],
        ['/dlq/redrive', 'confirmed=yes'],
        ['/dlq/redrive', 'id=nope&all=yes'],
        ['/dlq/redrive', 'id=x', { ...form, 'content-type': 'application/json' }],
        ['/dlq/redrive', `id=${'x'.repeat(100_000)}`],
      ];
      const posted = [];
      for (const [path, body, headers] of posts)
        posted.push({ path, body: body.slice(0, 40), status: (await raw(consoleServer.port, `${path}?token=${consoleServer.token}`, headers ?? form, 'POST', body)).status });
      expect(posted.filter((p) => p.status < 300 || p.status >= 500)).toEqual([]);
      // Still one dead letter: none of that redrove anything.
      expect(await h.queueDepth(h.stack.dlqUrl)).toBe(2);
    });
  });

  describe('a stack that stops answering', () => {
    it('answers 502 with the reason, not a stack trace', async () => {
      const info = h.stack.info() as LocalStackInfo;
      const gone = localTarget({ ...info, endpoints: { sqs: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:1', ses: 'http://127.0.0.1:1' } });
      const server = await startConsole({ target: gone, port: 0 });
      try {
        const r = await fetch(`http://127.0.0.1:${server.port}/search?q=${orders.paddle}&token=${server.token}`);
        expect(r.status).toBe(502);
        expect(await r.text()).toMatch(/cannot reach AWS.*ECONNREFUSED/);
      } finally {
        await server.close();
        gone.close();
      }
    });
  });

  describe('in chromium', () => {
    it('opens on the overview with the token, then drops it from the address bar', async () => {
      await page.goto(consoleServer.url);
      await page.waitForURL((u) => !u.search.includes('token'));
      expect(Number(await page.textContent('#orders-count'))).toBeGreaterThanOrEqual(3);
      expect(await page.textContent('#dlq-depth')).toBe('2');
      expect(Number(await page.textContent('#rejected-count'))).toBeGreaterThanOrEqual(1);
      expect(await page.locator('figure.chart svg rect').count()).toBeGreaterThan(0);
      // The refused product is on the list of what needs attention, with a link to its order.
      expect(await page.textContent(`#attention-list tr:has-text("${orders.hostile}")`)).toContain('UNKNOWN_PRODUCT');
      await shot('overview');
    });

    it('searches by email and lists the order with its id', async () => {
      await page.fill('header input[name=q]', orders.email);
      await page.press('header input[name=q]', 'Enter');
      await page.waitForSelector('#results');
      expect(await page.locator(`#results tr[data-order="${orders.fastspring}"]`).count()).toBe(1);
      await shot('search');
      // The same box takes a license key, a license id or an order id.
      const [license] = (await h.store.findByOrder('fastspring', orders.fastspring))[0]!.state.licenses;
      for (const q of [license!.key, license!.licenseId, orders.fastspring]) {
        const html = await (await page.request.get(`${base()}/search?q=${encodeURIComponent(q)}`)).text();
        expect(html).toContain(`data-order="${orders.fastspring}"`);
      }
    });

    it('opens the order: licenses, holds and a timeline with the delivery and the email', async () => {
      await page.click(`#results tr[data-order="${orders.fastspring}"] a`);
      await page.waitForSelector('#order-id');
      expect(await page.textContent('#order-id')).toBe(orders.fastspring);
      expect(await page.locator('#licenses tbody tr').count()).toBe(2);
      expect(await page.locator('#licenses .status').allTextContents()).toEqual(['active', 'active']);
      const timeline = await page.textContent('#timeline');
      expect(timeline).toContain('POST /webhooks/fastspring');
      expect(timeline).toMatch(/email \(license\) sent/);
      // The second license is activated on one machine (its name is the app's, shown as text).
      const activation = page.locator('#activations tr[data-instance]');
      expect(await activation.count()).toBe(1);
      expect(await activation.textContent()).toContain('Ada’s <b>laptop</b>');
      expect(await activation.textContent()).toContain('1 / 1');
      await shot('order');
    });

    it('revokes one license after a confirmation page, with the reason in its history', async () => {
      const row = page.locator('#licenses tbody tr').first();
      const licenseId = await row.getAttribute('data-license');
      await row.locator('input[name=reason]').fill('chargeback by phone');
      await row.locator('button[value=revoke]').click();
      await page.waitForSelector('#confirm');
      expect(await page.textContent('#confirm')).toContain(`Revoke license ${licenseId}?`);
      await shot('confirm');
      // Nothing changed before the confirmation.
      expect((await h.store.findByLicenseId(licenseId!)) && (await h.store.findByOrder('fastspring', orders.fastspring))[0]!.state.licenses.every((l) => l.status === 'active')).toBe(true);
      await page.click('#confirm-button');
      await page.waitForSelector('.flash');
      expect(await page.textContent('.flash')).toContain(`${licenseId}: active → revoked`);
      expect(await page.textContent(`#licenses tr[data-license="${licenseId}"] .status`)).toBe('revoked');
      expect(await page.textContent('#timeline')).toContain('manual: chargeback by phone');
      await shot('order-revoked');
      const stored = (await h.store.findByOrder('fastspring', orders.fastspring))[0]!.state;
      expect(stored.licenses.find((l) => l.licenseId === licenseId)!.status).toBe('revoked');
    });

    it('resends the license email after a confirmation: the active license only, one more email', async () => {
      await page.fill('input[aria-label="Reason for the resend"]', 'customer lost the email');
      await page.click('#resend');
      await page.waitForSelector('#confirm');
      expect(await page.textContent('#confirm')).toContain(`again to ${orders.email}`);
      expect(await h.emails(orders.email)).toHaveLength(1);
      await page.click('#confirm-button');
      await page.waitForSelector('.flash');
      expect(await page.textContent('.flash')).toContain(`email to ${orders.email} (1 license(s)): sent`);
      expect(await h.emails(orders.email)).toHaveLength(2);
      expect(await page.textContent('#timeline')).toContain('manual: customer lost the email');
    });

    it('deactivates an instance after a confirmation, freeing its seat', async () => {
      await page.click('#activations button.deactivate');
      await page.waitForSelector('#confirm');
      await page.click('#confirm-button');
      await page.waitForSelector('.flash');
      expect(await page.textContent('.flash')).toMatch(/deactivated .+; 0 seat\(s\) still in use/);
      expect(await page.locator('#activations tr[data-instance]').count()).toBe(0);
      expect(await page.textContent('#activations')).toContain('no activation');
    });

    it('lists deliveries, shows one with its payload, and replays it as a no-op', async () => {
      await page.click('header a[href="/deliveries"]');
      await page.waitForSelector('#deliveries');
      await page.selectOption('select[name=provider]', 'fastspring');
      await page.waitForURL(/provider=fastspring/);
      await page.waitForSelector('#deliveries');
      expect(await page.locator('#deliveries tbody tr').count()).toBe(2);
      await shot('deliveries');
      await page.click(`#deliveries tr:has-text("${orders.fastspring}") td:last-child a`);
      await page.waitForSelector('#payload');
      expect(await page.textContent('#payload')).toContain(orders.fastspring);
      // FastSpring's answer when every event was queued: 200, empty.
      expect(await page.textContent('main')).toMatch(/Our answer\s*200/);
      expect(await page.textContent('#answer')).toBe('(empty body)');
      await page.click('#replay');
      await page.waitForSelector('.flash');
      expect(await page.textContent('.flash')).toContain('already applied, no change');
      await shot('delivery');
      // Paddle's answer is the license itself (Paddle emails it): the page shows it again.
      const paddleOrder = (await h.store.findByOrder('paddle', orders.paddle))[0]!.state;
      const listing = await (await page.request.get(`${base()}/deliveries?provider=paddle`)).text();
      const paddleDelivery = /href="(\/delivery\/paddle\/[^"]+)"/.exec(listing)![1]!;
      const paddlePage = await (await page.request.get(`${base()}${paddleDelivery}`)).text();
      expect(paddlePage).toMatch(new RegExp(`<pre id="answer">[^<]*${paddleOrder.licenses[0]!.key.split('-')[0]}`));
    });

    it('shows the dead letters decoded with their last error; redrives one, then all after a confirmation', async () => {
      await page.click('header a[href="/dlq"]');
      await page.waitForSelector('#dead-letters');
      const rows = page.locator('#dead-letters tbody tr');
      expect(await rows.count()).toBe(2);
      const row = page.locator(`#dead-letters tbody tr:has-text("${orders.dead}")`);
      expect(await row.textContent()).toContain('TimeoutError: SES did not answer within 10 s');
      await shot('dead-letters');
      await row.locator('td:first-child a').click();
      await page.waitForSelector('#dead-letter-body');
      expect(JSON.parse((await page.textContent('#dead-letter-body'))!)).toMatchObject({ scope: orders.dead, action: 'grant', customer: { email: `dead-${orders.dead}@example.com` } });
      await page.goBack();
      await page.waitForSelector('#dead-letters');
      await row.locator('button.redrive').click();
      await page.waitForSelector('.flash');
      expect(await page.textContent('.flash')).toContain('1 message(s) moved back');
      expect(await page.textContent('#dead-letters')).not.toContain(orders.dead);
      // All: asks first, then moves the rest (SQS's own move task).
      await page.click('#redrive-all');
      await page.waitForSelector('#confirm');
      await page.click('#confirm-button');
      await page.waitForSelector('#dlq-empty');
      expect(await page.textContent('.flash')).toContain('1 message(s) moved back');
      // The worker applies both: the orders now exist.
      for (const scope of [orders.dead, orders.dead2]) {
        await eventually(async () => ((await h.store.findByOrder('fastspring', scope)).length > 0 ? true : undefined), 30_000, `the redriven order ${scope}`);
        await page.goto(`${base()}/search?q=${scope}`);
        await page.waitForSelector(`#results tr[data-order="${scope}"]`);
      }
    });

    it('shows a customer’s markup as text, never as markup', async () => {
      await page.goto(`${base()}/search?q=${encodeURIComponent(orders.hostileEmail)}`);
      await page.click(`#results tr[data-order="${orders.hostile}"] a`);
      await page.waitForSelector('#customer');
      expect(await page.textContent('#customer')).toContain(HOSTILE);
      expect(await page.locator('main img').count()).toBe(0);
      expect(alerts).toEqual([]);
    });

    it('grants a license by hand after a confirmation, and exports every license as CSV', async () => {
      await page.click('header a[href="/licenses"]');
      await page.waitForSelector('#grant');
      await shot('licenses');
      const email = `reviewer-${Date.now()}@example.com`;
      await page.fill('#grant input[name=email]', email);
      await page.fill('#grant input[name=seats]', '3');
      await page.fill('#grant input[name=note]', 'review copy for a magazine');
      await page.click('#grant button[type=submit]');
      await page.waitForSelector('#confirm');
      await page.click('#confirm-button');
      await page.waitForSelector('.flash');
      expect(await page.textContent('.flash')).toMatch(/granted lic_\w+ \(order grant-\w+\); email sent/);
      expect(await page.textContent('#customer')).toContain(email);
      expect(await page.textContent('#licenses tbody')).toMatch(/active\s*3/);
      expect(await h.emails(email)).toHaveLength(1);
      const granted = await page.getAttribute('#licenses tbody tr', 'data-license');

      const csv = await page.request.get(`${base()}/licenses/export.csv`);
      expect(csv.status()).toBe(200);
      expect(csv.headers()['content-disposition']).toMatch(/^attachment; filename="keysmith-licenses-\d{4}-\d\d-\d\d\.csv"$/);
      const lines = (await csv.text()).trim().split('\r\n');
      expect(lines[0]).toBe('license_id,provider,order,product,status,seats,issued_at,expires_at,customer_email,live,key');
      expect(lines.find((l) => l.startsWith(`${granted},manual,`))).toContain(email);
      expect(lines.filter((l) => l.includes(`,fastspring,${orders.fastspring},`))).toHaveLength(2);
    });
  });

  describe('over a deployed stack (--stack: CloudFormation faked, SQS and DynamoDB the emulators)', () => {
    it('finds the resources from the stack outputs and serves the same pages', async () => {
      const aws = await startFakeAws({
        stackName: 'KeysmithConsole',
        stackStatus: 'UPDATE_COMPLETE',
        outputs: { ApiUrl: h.stack.url, QueueUrl: h.stack.queueUrl, DlqUrl: h.stack.dlqUrl, TableName: h.stack.tableName, SecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:k' },
        secret: {},
        identities: {},
        quota: { max: 200, rate: 1, sent: 0 },
        subscriptions: [],
        alarms: [],
      });
      const saved = process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
      process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = aws.url;
      const deployed = await awsTarget('KeysmithConsole', 'us-east-1');
      const server = await startConsole({ target: deployed, port: 0 });
      try {
        const search = await fetch(`http://127.0.0.1:${server.port}/search?q=${orders.paddle}&token=${server.token}`);
        const text = await search.text();
        expect(search.status).toBe(200);
        expect(text).toContain(orders.paddle);
        expect(text).toContain('stack KeysmithConsole (us-east-1)');
        const overview = await (await fetch(`http://127.0.0.1:${server.port}/?wait=1&token=${server.token}`)).text();
        expect(overview).toContain('Keysmith/Rejected metric');
      } finally {
        await server.close();
        deployed.close();
        if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
        else process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = saved;
        await aws.stop();
      }
    });
  });

  describe('the CLI', () => {
    let child: ChildProcess | undefined;
    afterAll(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
    });

    it('`keysmith console --no-open --port 0` prints one line with the URL and serves until stopped', async () => {
      child = spawn(process.execPath, ['bin/keysmith.cjs', 'console', '--no-open', '--port', '0'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(h.stack.port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const exited = new Promise<number | null>((done) => child!.on('exit', (code) => done(code)));
      await eventually(() => (stdout.includes('\n') ? true : undefined), 60_000, `the console's URL line (stderr: ${stderr})`);
      const match = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43})\n$/.exec(stdout);
      expect(match).not.toBeNull();
      const port = Number(match![1]);
      expect(port).toBeGreaterThan(0);
      const search = await fetch(`http://127.0.0.1:${port}/search?q=${orders.paddle}&token=${match![2]}`);
      expect(search.status).toBe(200);
      expect(await search.text()).toContain(orders.paddle);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // Still exactly one line: nothing else was printed on stdout.
      expect(stdout.split('\n')).toHaveLength(2);
    });
  });
});
