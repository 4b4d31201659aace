import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { type DeliveryLog, deliveryWrites } from '../../../functions/aws/deliveryLog';
import { secretsFrom } from '../../../functions/aws/secrets';
import { canonicalEvent } from '../../../functions/domain/canonicalEvent';
import type { Catalog } from '../../../functions/domain/catalog';
import { PROVIDER_NAME_PATTERN } from '../../../functions/domain/events';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { LICENSING_ROUTES } from '../../../functions/licensing/routes';
import { DEV_ONLY_NAMES, findWebhookProvider, PROVIDER_NAMES, PROVIDER_REGISTRY, SECRET_NAMES, SECRETS, secretBaseName, secretOwner, WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { SampleRequest } from '../../../functions/providers/sample';
import type { ProviderRegistration, WebhookRegistration } from '../../../functions/providers/types';
import { TABLE } from '../../../functions/settings';
import { secretProblem } from '../../../lib/cli/secretChecks';
import { INGRESS_LEADING_KEYS, KeysmithStack } from '../../../lib/keysmith-stack';
import { ensureDevSecrets, formatEnvFile, parseEnvFile } from '../../../lib/local/devSecrets';
import { rawFromSample, routeRequest } from '../../../scripts/soak/apiEvent';
import { ingestInProcess } from '../../../scripts/soak/inProcess';
import { exampleCatalog } from '../../helpers/fixtures';
import { appWithoutBundling, PROJECT_ROOT, useProjectTmpdir } from '../../infra/support';

/**
 * A provider declares everything about itself in its folder (`registration.ts`), and every
 * consumer takes it from functions/providers/registry.ts. These tests iterate the registry, so a
 * new provider is checked by adding its registry line: its routes are the stack's, its secrets
 * are the stack's, the dev secrets' and `doctor`'s, replay rebuilds its samples, every sample
 * event it declares is accepted, and its fuzz hooks and bench floor work on its own samples.
 */

useProjectTmpdir();

let stateDir: string;
let dev: Record<string, string>;
let catalog: Catalog;

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'keysmith-registry-'));
  dev = ensureDevSecrets(stateDir, {}).values as Record<string, string>;
  catalog = exampleCatalog();
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const webhookCases = WEBHOOK_PROVIDERS.map((r) => [r.name, r] as const);

describe('the registry itself', () => {
  it('names every provider once, in the form the domain and the stack accept', () => {
    expect(new Set(PROVIDER_NAMES).size).toBe(PROVIDER_NAMES.length);
    for (const name of PROVIDER_NAMES) expect(name).toMatch(PROVIDER_NAME_PATTERN);
    const routes = WEBHOOK_PROVIDERS.flatMap((r) => r.routes.map((route) => `${route.method} ${route.path}`));
    expect(new Set(routes).size).toBe(routes.length);
  });

  it.each(webhookCases)('%s: its entry exists, and its limits are the ones its provider module enforces', async (name, registration) => {
    expect(existsSync(join(PROJECT_ROOT, registration.entry))).toBe(true);
    expect(registration.entry).toBe(`functions/providers/${name}/handler.ts`);
    const provider = await registration.provider();
    expect(provider.name).toBe(name);
    expect(provider.maxBodyBytes).toBe(registration.http.maxBodyBytes);
    expect(provider.contentTypes).toEqual(registration.http.contentTypes);
    expect(typeof (await registration.load()).handler).toBe('function');
  });
});

/** The API's routes other than the license API's own (functions/licensing/routes.ts). */
function webhookRouteKeys(template: Template): string[] {
  const licensing = new Set<string>(LICENSING_ROUTES.map((path) => `POST ${path}`));
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
    .map((r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey)
    .filter((key) => !licensing.has(key));
}

describe('the CDK stack builds from the registry', () => {
  const routeless: ProviderRegistration = { name: 'routeless-test', title: 'A provider without webhooks', routes: [], secrets: [] };
  const synth = (providers: readonly ProviderRegistration[]) => {
    const stack = new KeysmithStack(appWithoutBundling(), 'Registry', { catalog: exampleCatalog(), providers });
    return { stack, template: Template.fromStack(stack) };
  };

  it('routes exactly the registry routes, each to its provider ingress; one secret per provider with secrets', () => {
    const { stack, template } = synth(PROVIDER_REGISTRY);
    const routeKeys = webhookRouteKeys(template);
    expect(routeKeys.sort()).toEqual(WEBHOOK_PROVIDERS.flatMap((r) => r.routes.map((route) => `${route.method} ${route.path}`)).sort());
    expect([...stack.ingressFunctions.keys()].sort()).toEqual(WEBHOOK_PROVIDERS.map((r) => r.name).sort());
    expect([...stack.providerSecrets.keys()].sort()).toEqual(
      PROVIDER_REGISTRY.filter((r) => r.secrets.length > 0)
        .map((r) => r.name)
        .sort(),
    );
    // Each provider secret's description names exactly the registry's secret names.
    for (const registration of PROVIDER_REGISTRY.filter((r) => r.secrets.length > 0)) {
      const secret = template.findResources('AWS::SecretsManager::Secret')[stack.getLogicalId(stack.providerSecrets.get(registration.name)!.node.defaultChild as never)];
      expect((secret as { Properties: { Description: string } }).Properties.Description).toContain(`(${registration.secrets.map((s) => s.name).join(', ')})`);
    }
  });

  it('takes a provider without routes or secrets (operator grants) without an ingress, a route or a secret for it', () => {
    const { stack, template } = synth([...PROVIDER_REGISTRY, routeless]);
    for (const name of ['routeless-test', 'manual']) {
      expect(stack.ingressFunctions.has(name)).toBe(false);
      expect(stack.providerSecrets.has(name)).toBe(false);
    }
    expect(webhookRouteKeys(template)).toHaveLength(WEBHOOK_PROVIDERS.flatMap((r) => r.routes).length);
    // The domain takes its events like any provider's.
    expect(
      canonicalEvent({
        provider: 'manual',
        eventId: 'grant-1',
        occurredAt: '2026-12-02T00:00:00.000Z',
        action: 'grant',
        reason: 'operator grant',
        scope: 'order-1',
        live: true,
        customer: { email: 'someone@example.com' },
        items: [{ productId: 'p', quantity: 1 }],
      }).provider,
    ).toBe('manual');
  });
  it('takes a webhook provider whose name has a dash (construct ids and alarm metric ids stay valid)', () => {
    const fastspring = findWebhookProvider('fastspring')!;
    const dashed: WebhookRegistration = {
      ...fastspring,
      name: 'acme-pay',
      title: 'Acme Pay',
      routes: [{ method: 'POST', path: '/webhooks/acme-pay' }],
      secrets: [{ ...fastspring.secrets[0]!, name: 'KEYSMITH_ACME_PAY_SECRET' }],
    };
    // The registry is at the alarms' 10-provider limit already: swap one storefront for it.
    const { stack, template } = synth([...PROVIDER_REGISTRY.filter((p) => p.name !== 'selldone'), dashed]);
    expect(stack.ingressFunctions.has('acme-pay')).toBe(true);
    template.hasOutput('SecretArnAcmePay', {});
    template.hasOutput('WebhookUrlAcmePay', {});
    const expressions = JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'));
    expect(expressions).toContain('acme_pay');
  });
});

describe('secrets come from the registry', () => {
  it('SECRET_NAMES is every provider secret plus the license secrets, each with its owner', () => {
    expect(SECRET_NAMES).toEqual([...PROVIDER_REGISTRY.flatMap((r) => r.secrets.map((s) => s.name)), 'KEYSMITH_LICENSE_SECRET', 'KEYSMITH_LICENSE_SIGNING_KEY']);
    for (const registration of PROVIDER_REGISTRY) {
      for (const spec of registration.secrets) {
        expect(spec.name).toMatch(/^KEYSMITH_[A-Z0-9_]+$/);
        expect(secretOwner(spec.name)).toBe(registration.name);
      }
    }
  });

  it.each(SECRETS.map((s) => [s.name, s] as const))('%s: the local stack generates a value its own check accepts; `secrets set` and doctor use that check', (name, spec) => {
    expect(dev[name]).toEqual(expect.any(String));
    for (const companion of spec.dev.companions ?? []) expect(dev[companion]).toEqual(expect.any(String));
    expect(secretProblem(name, dev[name]!)).toBeUndefined();
    expect(secretProblem(name, '  ')).toBe('is empty');
    expect(secretBaseName(name)).toBe(name);
    expect(secretBaseName(`${name}_PREVIOUS`)).toBe(spec.rotatable ? name : undefined);
    // What the dev secrets file writes, it reads back.
    expect(parseEnvFile(formatEnvFile({ [name]: dev[name] }))[name]).toBe(dev[name]);
  });

  it('the dev secrets file holds every secret and every dev-only companion, nothing else', () => {
    expect(Object.keys(dev).sort()).toEqual([...SECRET_NAMES, ...DEV_ONLY_NAMES].sort());
  });

  it.each(SECRETS.filter((s) => s.tryValue).map((s) => [s.name, s] as const))('%s: doctor puts the dev value to its job', async (_name, spec) => {
    await expect(spec.tryValue!(dev, catalog)).resolves.toMatchObject({ name: spec.name, status: 'ok' });
  });
});

/**
 * The request `keysmith replay` rebuilds from a delivery log item (lib/cli/commands/replay.ts):
 * method, path, route key, content type and the logged bytes — no other header, no path parameter.
 */
function loggedRequest(sample: SampleRequest, logged: Buffer): WebhookRequest {
  const routed = routeRequest(rawFromSample(sample));
  if (routed.kind !== 'route') throw new Error(`the sample for ${sample.path} does not route`);
  const contentType = sample.headers['content-type'];
  return {
    ...routed.request,
    pathParameters: {},
    headers: contentType ? { 'content-type': contentType } : {},
    rawQuery: '',
    body: logged,
  };
}

describe.each(webhookCases)('%s, from its registration', (name, registration) => {
  it('writes with the delivery log only inside the partitions the ingress policy allows (DLV#, KEY#, LIC#, SUB#), for every sample', async () => {
    const allowed = INGRESS_LEADING_KEYS.map((k) => k.replace(/\*$/, ''));
    const builder = await registration.sample();
    const secrets = secretsFrom(dev);
    const writes: string[] = [];
    const deliveries: DeliveryLog = {
      record: async (record, predicted) => {
        writes.push(...deliveryWrites(record, predicted).map((w) => w.PutRequest!.Item![TABLE.partitionKey]!.S!));
        return true;
      },
    };
    for (const event of builder.events) await ingestInProcess(rawFromSample(builder.build({ secrets: dev, event })), { secrets, catalog, deliveries });
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((pk) => !allowed.some((prefix) => pk.startsWith(prefix)))).toEqual([]);
  });

  it('has a signed sample for every event it declares, each accepted by its ingress; the first grants and the refund revokes', async () => {
    const builder = await registration.sample();
    expect(builder.events.length).toBeGreaterThan(0);
    expect(builder.events).toContain(builder.refundEvent);
    const secrets = secretsFrom(dev);
    for (const event of builder.events) {
      const sample = builder.build({ secrets: dev, event, email: `registry-${name}@example.com` });
      const result = await ingestInProcess(rawFromSample(sample), { secrets, catalog });
      expect({ event, status: result.answer.status, provider: result.provider }).toEqual({ event, status: expect.any(Number), provider: name });
      expect(result.answer.status).toBeLessThan(300);
      expect(result.enqueued.map((e) => e.eventId)).toEqual(sample.eventIds);
    }
    const orderId = builder.soakOrderId(7, 'reg');
    expect(builder.soakOrderId(8, 'reg')).not.toBe(orderId);
    const purchase = await ingestInProcess(rawFromSample(builder.build({ secrets: dev, orderId })), { secrets, catalog });
    const refund = await ingestInProcess(rawFromSample(builder.build({ secrets: dev, orderId, event: builder.refundEvent })), { secrets, catalog });
    expect(purchase.enqueued.map((e) => e.action)).toEqual(['grant']);
    expect(refund.enqueued.map((e) => e.action)).toEqual(['revoke']);
  });

  it('replay rebuilds what verify returned from the logged delivery, giving the same events', async () => {
    const builder = await registration.sample();
    const provider = await registration.provider();
    const ctx = { secrets: secretsFrom(registration.replay?.needsSecrets ? dev : {}), catalog };
    const rebuild = registration.replay ? await registration.replay.rebuild() : (request: WebhookRequest) => request.body;
    for (const event of builder.events) {
      const sample = builder.build({ secrets: dev, event });
      const request = loggedRequest(sample, provider.logPayload?.(sample.body) ?? sample.body);
      const verified = await rebuild(request, ctx, new Set(sample.eventIds));
      expect(provider.normalize(provider.parse(verified, request), request, ctx).map((e) => e.eventId)).toEqual(sample.eventIds);
    }
  });

  it('its fuzz hooks: its targets route to it, a re-signed sample is authentic, its forgeries are refused', async () => {
    const hooks = await registration.fuzz();
    const builder = await registration.sample();
    const secrets = secretsFrom(dev);
    for (const target of hooks.targets(dev)) {
      const routed = routeRequest({ method: 'POST', target, headers: [], body: Buffer.alloc(0) });
      expect(routed.kind === 'route' ? routed.provider : undefined).toBe(name);
    }
    const sample = rawFromSample(builder.build({ secrets: dev, validForSeconds: 3600 }));
    if (hooks.resign && hooks.body !== 'jwt') {
      const resigned = hooks.resign(sample, dev);
      expect((await ingestInProcess(resigned, { secrets, catalog })).answer.status).toBeLessThan(300);
    }
    const attacker = (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kit = {
      secrets: dev,
      attacker: {
        rsa: (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
        ec: attacker.privateKey,
        ecPublicJwk: attacker.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
      },
    };
    let refused = 0;
    for (let n = 0; n < 40; n++) {
      const forged = hooks.forged(sample, [], n, 'junk-value', kit);
      if (forged.expect === 'classify') continue;
      const result = await ingestInProcess(forged.request, { secrets, catalog });
      expect({ label: forged.label, status: result.answer.status >= 400 && result.answer.status < 500, enqueued: result.enqueued.length }).toEqual({ label: forged.label, status: true, enqueued: 0 });
      refused++;
    }
    // Token-authenticated providers may judge every variant by `classify`; signed ones refuse outright.
    if (hooks.resign) expect(refused).toBeGreaterThan(0);
  });

  it('its bench floor checks its own samples', async () => {
    const floor = (await registration.benchFloor())(dev);
    const sample = (await registration.sample()).build({ secrets: dev });
    const routed = routeRequest(rawFromSample(sample));
    if (routed.kind !== 'route') throw new Error(`the ${name} sample does not route`);
    const r = routed.request;
    expect(typeof floor({ method: r.method, headers: r.headers, pathParameters: r.pathParameters, rawQuery: r.rawQuery, body: r.body })).toBe('number');
  });
});

describe('replay takes the body limit from the registration', () => {
  it('Paddle: a logged GET delivery over the registered limit is refused, one at the limit is not', async () => {
    // Prepare: Paddle's replay verifies the logged form again; a GET delivery's payload is its query.
    const registration = findWebhookProvider('paddle')!;
    const rebuild = await registration.replay!.rebuild();
    const sample = (await registration.sample()).build({ secrets: dev });
    const ctx = { secrets: secretsFrom(dev), catalog };
    // Empty pairs (`&&&`) decode to nothing: the signed fields stay the same.
    const logged = (size: number): WebhookRequest => ({
      ...loggedRequest(sample, Buffer.alloc(0)),
      method: 'GET',
      routeKey: 'GET /webhooks/paddle',
      rawQuery: sample.body.toString('utf8') + '&'.repeat(size - sample.body.length),
    });
    // Act / Assess
    expect(() => rebuild(logged(registration.http.maxBodyBytes + 1), ctx, new Set(sample.eventIds))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(rebuild(logged(registration.http.maxBodyBytes), ctx, new Set(sample.eventIds))).toMatchObject({ endpoint: 'fulfillment', live: true });
  });
});
