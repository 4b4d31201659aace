import { createHash, type KeyObject, verify } from 'node:crypto';
import { type Catalog, DEFAULT_LICENSE_API, type LicenseApiPolicy } from '../domain/catalog';
import { signLicenseFile } from '../domain/licenseFile';
import { crockford, keyHash } from '../domain/licenses';
import type { LicenseView } from '../domain/licenseView';
import { LICENSE_ISSUER } from '../domain/signedLicense';
import { maskEmail } from '../log/logger';

/**
 * The license API (DESIGN.md "License API"): activate, validate and deactivate, in Lemon
 * Squeezy's field names plus keysmith's `code`. Pure decisions over one port (`LicenseApiStore`):
 * a validate is one read of the license's API partition (its view and its activations); an
 * activation is that read plus one conditional write, which is what holds the seat limit and the
 * daily budget under any concurrency (docs/license-api.md).
 */

export const LICENSE_API_CODES = ['VALID', 'NOT_FOUND', 'REVOKED', 'SUSPENDED', 'EXPIRED', 'ACTIVATION_LIMIT_REACHED', 'INSTANCE_NOT_FOUND', 'TEST_LICENSE', 'BAD_REQUEST', 'RATE_LIMITED'] as const;
export type LicenseApiCode = (typeof LICENSE_API_CODES)[number];
export type LicenseRoute = 'activate' | 'validate' | 'deactivate';

/** Instances one license keeps at most, whatever its seats: the partition's item stays bounded. */
export const MAX_INSTANCES = 1000;
export const LIMITS = { key: 2048, instanceName: 200, fingerprint: 512, instanceId: 64 } as const;

/** One activated machine. The fingerprint is kept only as a hash (it may identify a person's device). */
export interface Instance {
  id: string;
  name: string;
  /** sha256 (base64url) of the fingerprint, when one was given. */
  fp?: string;
  /** Seconds since the epoch. */
  created: number;
}

export interface Activations {
  instances: Record<string, Instance>;
  /** Instances in use (the map's size, kept as a number the write can compare). */
  usage: number;
  /** UTC day (YYYY-MM-DD) of the last activation, and how many that day. */
  day?: string;
  dayCount?: number;
  /** False when the partition has no activations item yet. */
  exists: boolean;
}

export interface LicenseRecord {
  view?: LicenseView;
  activations: Activations;
}

export type AddOutcome = 'added' | 'conflict';

export interface LicenseApiStore {
  /** The license's view and activations: one Query of its partition. */
  read(partition: string, consistent?: boolean): Promise<LicenseRecord>;
  /**
   * Add an instance if, at write time, it is not there, fewer than `limit` are in use and today's
   * count is under `budget` — all judged from `seen`. 'conflict': something changed since (read again).
   */
  addInstance(partition: string, instance: Instance, rule: { limit: number; budget: number; today: string; seen: Activations }): Promise<AddOutcome>;
  /** Remove an instance; false when it was not there. */
  removeInstance(partition: string, instanceId: string): Promise<boolean>;
}

export interface LicenseApiDeps {
  store: LicenseApiStore;
  catalog: Catalog;
  /** The license signing key (license files, and reading `signed` licenses); absent → no file. */
  signingKey?: KeyObject;
  publicKey?: KeyObject;
  now: () => Date;
}

export interface ActivateInput {
  licenseKey: string;
  instanceName: string;
  fingerprint?: string;
}
export interface ValidateInput {
  licenseKey: string;
  instanceId?: string;
  /** Optional: binds the license file to this machine (must match the instance's). */
  fingerprint?: string;
}
export interface DeactivateInput {
  licenseKey: string;
  instanceId: string;
}

export interface LicenseKeyBody {
  id: string;
  status: 'active' | 'inactive' | 'expired' | 'disabled';
  key: string;
  activation_limit: number;
  activation_usage: number;
  created_at: string;
  expires_at: string | null;
  test_mode: boolean;
}
export interface InstanceBody {
  id: string;
  name: string;
  created_at: string;
}
export interface MetaBody {
  order_id: string;
  product_id: string;
  product_name: string;
  customer_name: string | null;
  customer_email: string;
  provider: string;
}

export interface ApiAnswer {
  status: number;
  code: LicenseApiCode;
  body: Record<string, unknown>;
  /** For logs and metrics: never the key itself. */
  keyHash?: string;
}

/** Which of the answer's booleans a route sets. */
const FLAG: Record<LicenseRoute, 'activated' | 'valid' | 'deactivated'> = { activate: 'activated', validate: 'valid', deactivate: 'deactivated' };

const MESSAGES: Record<LicenseApiCode, string> = {
  VALID: '',
  NOT_FOUND: 'license_key not found',
  REVOKED: 'This license key has been revoked.',
  SUSPENDED: 'This license key is suspended.',
  EXPIRED: 'This license key has expired.',
  ACTIVATION_LIMIT_REACHED: 'This license key has reached its activation limit.',
  INSTANCE_NOT_FOUND: 'instance_id not found for this license key',
  TEST_LICENSE: 'This license key comes from a test order.',
  BAD_REQUEST: 'bad request',
  RATE_LIMITED: 'Too many activations of this license key today; try again tomorrow.',
};

export function badRequest(route: LicenseRoute, reason: string): ApiAnswer {
  return { status: 400, code: 'BAD_REQUEST', body: { [FLAG[route]]: false, error: reason, code: 'BAD_REQUEST', license_key: null, instance: null, meta: null } };
}

export async function validate(input: ValidateInput, deps: LicenseApiDeps): Promise<ApiAnswer> {
  const found = await locate(input.licenseKey, deps);
  if (!found.record.view) return notFound('validate', found.keyHash);
  const { view } = found.record;
  const policy = policyOf(deps.catalog, view);
  const now = deps.now();
  let code = licenseCode(view, policy, now);
  const instance = input.instanceId !== undefined ? found.record.activations.instances[input.instanceId] : undefined;
  // A fingerprint sent along must be the one the instance was activated with.
  const fingerprintOk = !instance || input.fingerprint === undefined || instance.fp === fingerprintHash(input.fingerprint);
  if (code === 'VALID' && input.instanceId !== undefined && (!instance || !fingerprintOk)) code = 'INSTANCE_NOT_FOUND';
  const proven = instance && input.fingerprint !== undefined && fingerprintOk ? input.fingerprint : undefined;
  return answer({ route: 'validate', code, found, policy, now, signingKey: deps.signingKey, ...(instance ? { instance } : {}), ...(proven !== undefined ? { fingerprint: proven } : {}) });
}

export async function activate(input: ActivateInput, deps: LicenseApiDeps): Promise<ApiAnswer> {
  let found = await locate(input.licenseKey, deps);
  for (let attempt = 0; ; attempt++) {
    if (!found.record.view) return notFound('activate', found.keyHash);
    const { view, activations } = found.record;
    const policy = policyOf(deps.catalog, view);
    const now = deps.now();
    const code = licenseCode(view, policy, now);
    const base = { route: 'activate' as const, found, policy, now, signingKey: deps.signingKey };
    if (code !== 'VALID') return answer({ ...base, code });
    const fp = input.fingerprint !== undefined ? { fingerprint: input.fingerprint } : {};
    const id = instanceIdFor(view.licenseId, input.instanceName, input.fingerprint);
    const existing = activations.instances[id];
    // The same machine again: its instance, not a second seat.
    if (existing) return answer({ ...base, code: 'VALID', instance: existing, ...fp });
    const limit = activationLimit(view);
    if (activations.usage >= limit) return answer({ ...base, code: 'ACTIVATION_LIMIT_REACHED' });
    const today = now.toISOString().slice(0, 10);
    if (activations.day === today && (activations.dayCount ?? 0) >= policy.activationsPerDay) return answer({ ...base, code: 'RATE_LIMITED' });
    const instance: Instance = {
      id,
      name: input.instanceName,
      ...(input.fingerprint !== undefined ? { fp: fingerprintHash(input.fingerprint) } : {}),
      created: Math.floor(now.getTime() / 1000),
    };
    const outcome = await deps.store.addInstance(found.partition, instance, { limit, budget: policy.activationsPerDay, today, seen: activations });
    if (outcome === 'added') {
      const after: LicenseRecord = {
        view,
        activations: { ...activations, exists: true, usage: activations.usage + 1, instances: { ...activations.instances, [id]: instance } },
      };
      return answer({ ...base, found: { ...found, record: after }, code: 'VALID', instance, ...fp });
    }
    // Someone else activated (or deactivated) in between: decide again from what is there now.
    if (attempt >= 5) throw new Error('license activations kept changing; try again');
    found = { ...found, record: await deps.store.read(found.partition, true) };
  }
}

export async function deactivate(input: DeactivateInput, deps: LicenseApiDeps): Promise<ApiAnswer> {
  const found = await locate(input.licenseKey, deps);
  if (!found.record.view) return notFound('deactivate', found.keyHash);
  const { view, activations } = found.record;
  const policy = policyOf(deps.catalog, view);
  const now = deps.now();
  const instance = activations.instances[input.instanceId];
  const removed = instance ? await deps.store.removeInstance(found.partition, input.instanceId) : false;
  const base = { route: 'deactivate' as const, policy, now, signingKey: deps.signingKey };
  if (!removed) return answer({ ...base, found, code: 'INSTANCE_NOT_FOUND' });
  const { [input.instanceId]: _gone, ...rest } = activations.instances;
  const after: LicenseRecord = { view, activations: { ...activations, usage: Math.max(0, activations.usage - 1), instances: rest } };
  // Freeing a seat always works; the code still says what the license is.
  const answered = answer({ ...base, found: { ...found, record: after }, code: licenseCode(view, policy, now) });
  answered.body.deactivated = true;
  answered.body.error = null;
  return answered;
}

// ---- finding a license ------------------------------------------------------------------------

interface Located {
  partition: string;
  record: LicenseRecord;
  /** What the caller sent (a key, normalized, or a token). */
  key: string;
  keyHash: string;
}

/**
 * A `signed` license arrives as its token: once the signature checks out, its license id names
 * the partition. Anything else is read as a key. Either way exactly one Query follows — also for
 * a malformed or unknown key, so the answer's timing does not tell them apart.
 */
async function locate(licenseKey: string, deps: LicenseApiDeps): Promise<Located> {
  const hashed = keyHash(licenseKey);
  const licenseId = deps.publicKey ? signedLicenseId(licenseKey.trim(), deps.publicKey) : undefined;
  const partition = licenseId ? `LIC#${licenseId}` : `KEY#${hashed}`;
  const record = await deps.store.read(partition);
  // A view in the wrong kind of partition cannot happen; refuse rather than trust it.
  if (record.view && (record.view.format === 'signed') !== (licenseId !== undefined)) return { partition, record: { activations: record.activations }, key: licenseKey, keyHash: hashed };
  return { partition, record, key: licenseKey.trim(), keyHash: hashed };
}

/** The license id of a keysmith license token whose signature verifies with `publicKey`. */
export function signedLicenseId(token: string, publicKey: KeyObject): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: unknown; typ?: unknown };
    if (header.alg !== 'EdDSA' || header.typ !== 'keysmith-license+jwt') return undefined;
    if (!verify(null, Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, 'base64url'))) return undefined;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { iss?: unknown; jti?: unknown };
    return payload.iss === LICENSE_ISSUER && typeof payload.jti === 'string' && /^lic_[a-z0-9]{1,40}$/.test(payload.jti) ? payload.jti : undefined;
  } catch {
    return undefined;
  }
}

// ---- decisions --------------------------------------------------------------------------------

function policyOf(catalog: Catalog, view: LicenseView): LicenseApiPolicy {
  return catalog.products[view.product]?.licenseApi ?? DEFAULT_LICENSE_API;
}

/** What the license itself allows now, before any instance is considered. */
export function licenseCode(view: LicenseView, policy: LicenseApiPolicy, now: Date): LicenseApiCode {
  if (view.status === 'revoked') return 'REVOKED';
  if (view.status === 'suspended') return 'SUSPENDED';
  if (view.expiresAt !== null && Date.parse(view.expiresAt) <= now.getTime()) return 'EXPIRED';
  if (view.test && !policy.allowTest) return 'TEST_LICENSE';
  return 'VALID';
}

export function activationLimit(view: Pick<LicenseView, 'seats'>): number {
  return Math.min(view.seats, MAX_INSTANCES);
}

/** The same license, name and fingerprint always give the same instance: activating again is idempotent. */
export function instanceIdFor(licenseId: string, name: string, fingerprint: string | undefined): string {
  const digest = createHash('sha256')
    .update([licenseId, name, fingerprint ?? ''].map((f) => `${f.length}:${f}`).join('|'))
    .digest();
  return `inst_${crockford(digest, 20).toLowerCase()}`;
}

export function fingerprintHash(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('base64url');
}

// ---- answers ------------------------------------------------------------------------------------

function notFound(route: LicenseRoute, hashed: string): ApiAnswer {
  return { status: 404, code: 'NOT_FOUND', keyHash: hashed, body: { [FLAG[route]]: false, error: MESSAGES.NOT_FOUND, code: 'NOT_FOUND', license_key: null, instance: null, meta: null } };
}

interface AnswerInput {
  route: LicenseRoute;
  code: LicenseApiCode;
  found: Located;
  policy: LicenseApiPolicy;
  now: Date;
  signingKey: KeyObject | undefined;
  instance?: Instance;
  /** The fingerprint the caller proved (sent, and matching the instance's). */
  fingerprint?: string;
}

function answer({ route, code, found, policy, now, signingKey, instance, fingerprint }: AnswerInput): ApiAnswer {
  const view = found.record.view!;
  const ok = code === 'VALID';
  const licenseKey = licenseKeyBody(view, found, now);
  const body: Record<string, unknown> = {
    [FLAG[route]]: ok,
    error: ok ? null : MESSAGES[code],
    code,
    license_key: licenseKey,
    instance: instance ? { id: instance.id, name: instance.name, created_at: new Date(instance.created * 1000).toISOString() } : null,
    meta: metaBody(view, policy),
  };
  if (ok && route !== 'deactivate') {
    body.license_file = signingKey
      ? signLicenseFile(signingKey, {
          licenseId: view.licenseId,
          product: view.product,
          status: licenseKey.status,
          seats: view.seats,
          ...(instance ? { instanceId: instance.id } : {}),
          ...(fingerprint !== undefined ? { fingerprint } : {}),
          licenseExpiresAt: view.expiresAt,
          test: view.test,
          issuedAt: now,
          refreshDays: policy.refreshDays,
        })
      : null;
  }
  return { status: code === 'RATE_LIMITED' ? 429 : 200, code, body, keyHash: found.keyHash };
}

function licenseKeyBody(view: LicenseView, found: Located, now: Date): LicenseKeyBody {
  const code = licenseCode(view, { ...DEFAULT_LICENSE_API, allowTest: true }, now);
  const usage = found.record.activations.usage;
  const status = code === 'REVOKED' || code === 'SUSPENDED' ? 'disabled' : code === 'EXPIRED' ? 'expired' : usage > 0 ? 'active' : 'inactive';
  return {
    id: view.licenseId,
    status,
    key: found.key,
    activation_limit: activationLimit(view),
    activation_usage: usage,
    created_at: view.issuedAt,
    expires_at: view.expiresAt,
    test_mode: view.test,
  };
}

function metaBody(view: LicenseView, policy: LicenseApiPolicy): MetaBody {
  return {
    order_id: view.orderId ?? view.scope,
    product_id: view.product,
    product_name: view.productName,
    customer_name: view.customerName ?? null,
    customer_email: policy.showCustomerEmail ? view.customerEmail : maskEmail(view.customerEmail),
    provider: view.provider,
  };
}
