import { generateKeyPairSync, sign } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apply } from '../../../functions/domain/entitlement';
import { viewsToWrite } from '../../../functions/domain/licenseView';
import { type Activations, activate, type Instance, type LicenseApiDeps, type LicenseApiStore, type LicenseRecord, licenseCode, signedLicenseId, validate } from '../../../functions/licensing/api';
import { createLicensingHandler, parseRequest } from '../../../functions/licensing/handler';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

/** The license API's decisions over an in-memory partition store that can be made to race or fail. */
class MemoryLicenseStore implements LicenseApiStore {
  records = new Map<string, LicenseRecord>();
  reads = 0;
  writes = 0;
  /** Called before each addInstance: lets a test change the record behind the caller's back. */
  beforeAdd?: (partition: string) => void;
  async read(partition: string): Promise<LicenseRecord> {
    this.reads++;
    return structuredClone(this.records.get(partition) ?? { activations: { instances: {}, usage: 0, exists: false } });
  }
  async addInstance(partition: string, instance: Instance, rule: { limit: number; budget: number; today: string; seen: Activations }) {
    this.writes++;
    this.beforeAdd?.(partition);
    const record = this.records.get(partition)!;
    const a = record.activations;
    if (a.usage !== rule.seen.usage || a.instances[instance.id] || a.usage >= rule.limit) return 'conflict' as const;
    record.activations = {
      ...a,
      exists: true,
      usage: a.usage + 1,
      instances: { ...a.instances, [instance.id]: instance },
      day: rule.today,
      dayCount: a.day === rule.today ? (a.dayCount ?? 0) + 1 : 1,
    };
    return 'added' as const;
  }
  async removeInstance() {
    return false;
  }
}

function setup(seats = 2) {
  const ctx = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date('2026-01-10T12:00:00Z') };
  const state = apply(undefined, grantEvent({ live: true, items: [{ productId: 'app', quantity: 1 }] }), ctx).state;
  state.licenses[0]!.seats = seats;
  const [placed] = viewsToWrite(undefined, { ...state, version: 1 });
  const store = new MemoryLicenseStore();
  store.records.set(placed!.partition, { view: placed!.view, activations: { instances: {}, usage: 0, exists: false } });
  const deps: LicenseApiDeps = { store, catalog: exampleCatalog(), now: () => new Date('2026-01-11T00:00:00Z') };
  return { store, deps, key: state.licenses[0]!.key, view: placed!.view };
}

describe('license API decisions', () => {
  it('validate is exactly one read', async () => {
    const { store, deps, key } = setup();
    expect((await validate({ licenseKey: key }, deps)).code).toBe('VALID');
    expect([store.reads, store.writes]).toEqual([1, 0]);
  });

  it('an activation is one read and one write when nobody races', async () => {
    const { store, deps, key } = setup();
    expect((await activate({ licenseKey: key, instanceName: 'a' }, deps)).code).toBe('VALID');
    expect([store.reads, store.writes]).toEqual([1, 1]);
  });

  it('losing a race re-reads and decides again: the last seat taken meanwhile → ACTIVATION_LIMIT_REACHED', async () => {
    const { store, deps, key } = setup(1);
    store.beforeAdd = (partition) => {
      store.beforeAdd = undefined;
      const r = store.records.get(partition)!;
      r.activations = { exists: true, usage: 1, instances: { other: { id: 'other', name: 'racer', created: 1 } } };
    };
    const answer = await activate({ licenseKey: key, instanceName: 'a' }, deps);
    expect(answer.code).toBe('ACTIVATION_LIMIT_REACHED');
    expect([store.reads, store.writes]).toEqual([2, 1]);
  });

  it('a store that keeps changing is an error after a few rounds (the handler answers 503), never a wrong answer', async () => {
    const { store, deps, key } = setup(1000);
    store.beforeAdd = (partition) => {
      const r = store.records.get(partition)!;
      r.activations = { ...r.activations, usage: r.activations.usage + 1 };
    };
    await expect(activate({ licenseKey: key, instanceName: 'a' }, deps)).rejects.toThrow(/kept changing/);
  });

  it('the order of codes: revoked before expired before test', () => {
    const { view } = setup();
    const policy = { ...exampleCatalog().products.default!.licenseApi, allowTest: false };
    const past = new Date('2030-01-01');
    expect(licenseCode({ ...view, status: 'revoked', expiresAt: '2029-01-01T00:00:00Z', test: true }, policy, past)).toBe('REVOKED');
    expect(licenseCode({ ...view, status: 'suspended', expiresAt: '2029-01-01T00:00:00Z' }, policy, past)).toBe('SUSPENDED');
    expect(licenseCode({ ...view, expiresAt: '2029-01-01T00:00:00Z', test: true }, policy, past)).toBe('EXPIRED');
    expect(licenseCode({ ...view, test: true }, policy, past)).toBe('TEST_LICENSE');
    expect(licenseCode({ ...view, test: true }, { ...policy, allowTest: true }, past)).toBe('VALID');
  });

  it('reads a signed license only from a token whose signature, type and issuer check out', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const make = (header: object, payload: object, key = privateKey) => {
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
    };
    const good = { iss: 'keysmith', jti: 'lic_abc' };
    expect(signedLicenseId(make({ alg: 'EdDSA', typ: 'keysmith-license+jwt' }, good), publicKey)).toBe('lic_abc');
    expect(signedLicenseId(make({ alg: 'EdDSA', typ: 'keysmith-license+jwt' }, good, other.privateKey), publicKey)).toBeUndefined();
    expect(signedLicenseId(make({ alg: 'EdDSA', typ: 'keysmith-license-file+jwt' }, good), publicKey)).toBeUndefined();
    expect(signedLicenseId(make({ alg: 'none', typ: 'keysmith-license+jwt' }, good), publicKey)).toBeUndefined();
    expect(signedLicenseId(make({ alg: 'EdDSA', typ: 'keysmith-license+jwt' }, { ...good, iss: 'evil' }), publicKey)).toBeUndefined();
    expect(signedLicenseId(make({ alg: 'EdDSA', typ: 'keysmith-license+jwt' }, { ...good, jti: 'KEY#x' }), publicKey)).toBeUndefined();
    expect(signedLicenseId('a.b', publicKey)).toBeUndefined();
  });
});

const event = (
  body: string | undefined,
  headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' },
  path = '/v1/licenses/validate',
  base64 = false,
): APIGatewayProxyEventV2 => ({ rawPath: path, headers, body, isBase64Encoded: base64, requestContext: { http: { method: 'POST', path } } }) as unknown as APIGatewayProxyEventV2;

describe('license API requests', () => {
  it.each([
    ['', 'license_key is required'],
    ['license_key=', 'license_key is required'],
    [`license_key=${'x'.repeat(2049)}`, 'license_key is longer than 2048 characters'],
    ['license_key=a%0Ab', 'license_key contains control characters'],
  ])('form case %# → %s', (body, error) => {
    expect(parseRequest(event(body), 'validate')).toEqual({ error });
  });

  it('JSON: fields must be strings; the body an object', () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    expect(parseRequest(event('{"license_key": 5}', json), 'validate')).toEqual({ error: 'license_key must be a string' });
    expect(parseRequest(event('[1]', json), 'validate')).toEqual({ error: 'the JSON body must be an object' });
    expect(parseRequest(event('{"license_key":"k","instance_id":"i","fingerprint":"f"}', json), 'validate')).toEqual({ route: 'validate', licenseKey: 'k', instanceId: 'i', fingerprint: 'f' });
    expect(parseRequest(event(Buffer.from('license_key=k&instance_name=n').toString('base64'), undefined, '/v1/licenses/activate', true), 'activate')).toEqual({
      route: 'activate',
      licenseKey: 'k',
      instanceName: 'n',
    });
  });

  it('a store that cannot be reached answers 503 with Retry-After, not a timeout or a 500', async () => {
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const handler = createLicensingHandler({
      store: () => ({
        read: async () => {
          throw new Error('DynamoDB unreachable');
        },
        addInstance: async () => 'conflict',
        removeInstance: async () => false,
      }),
    });
    const answer = await handler(event('license_key=AAAAA-BBBBB-CCCCC-DDDDD-EEEEE'));
    expect(answer.statusCode).toBe(503);
    expect(answer.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(answer.body!)).toMatchObject({ code: 'UNAVAILABLE' });
    const bad = await handler(event('nothing=here'));
    expect(bad.statusCode).toBe(400);
  });
});

describe('license API logs', () => {
  it('hold the key’s hash, never the key, the token or the customer’s email', async () => {
    const { store, key } = setup();
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const handler = createLicensingHandler({ store: () => store, now: () => new Date('2026-01-11T00:00:00Z') });
      for (const body of [`license_key=${key}`, `license_key=${key}&instance_name=pc`, 'license_key=AAAAA-BBBBB-CCCCC-DDDDD-EEEEE']) {
        await handler(event(body));
        await handler(event(body, undefined, '/v1/licenses/activate'));
      }
    } finally {
      spy.mockRestore();
    }
    const text = written.join('');
    expect(text).toContain('license API answered');
    expect(text).not.toContain(key);
    expect(text).not.toContain('AAAAA-BBBBB');
    expect(text).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}/);
    expect(text).toMatch(/"keyHash":"[0-9a-f]{16}"/);
  });
});
