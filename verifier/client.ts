import type { PublicKeyInput } from '../functions/domain/verifyLicense';
import { type LicenseFileCheck, verifyLicenseFile } from '../functions/domain/verifyLicenseFile';

/**
 * keysmith's license API client for the seller's app (Node, Electron, Deno, browsers): `fetch`
 * and `jose` only, no AWS. It activates this machine, validates at launch, and keeps the license
 * file every success returns, so the app keeps working while the API cannot be reached — until
 * the file's `exp` (the product's refresh window). A definite answer from the API (revoked,
 * expired, deactivated…) always wins over the cached file, and discards it.
 *
 *   const client = createLicenseClient({ baseUrl: LICENSING_URL, publicKey: PUBLIC_KEY_PEM, fingerprint: machineId, storage });
 *   const activation = await client.activate(key, 'Ada’s laptop');   // once
 *   const check = await client.validate();                             // every launch
 *   if (!check.valid) showLicenseDialog(check.code);
 */

/** Where the client keeps its state between launches (a file, localStorage, the keychain…). */
export interface LicenseStorage {
  get(): Promise<StoredLicense | undefined> | StoredLicense | undefined;
  set(value: StoredLicense | undefined): Promise<void> | void;
}

export interface StoredLicense {
  licenseKey: string;
  licenseId: string;
  instanceId?: string;
  licenseFile: string;
}

export interface LicenseClientOptions {
  /** The stack's `LicensingUrl` (or the local stack's URL). */
  baseUrl: string;
  /** The license public key (PEM or JWK), shipped in the app. */
  publicKey: PublicKeyInput;
  /** A stable id of this machine; binds activations and license files to it. */
  fingerprint?: string;
  /** @default in memory (lost when the app quits) */
  storage?: LicenseStorage;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per request. @default 5000 */
  timeoutMs?: number;
  /** @default () => new Date() */
  now?: () => Date;
}

/** What the API answered (Lemon Squeezy's fields plus `code`), or what the cached file allows. */
export interface LicenseResult {
  valid: boolean;
  /** The API's code (VALID, REVOKED, ACTIVATION_LIMIT_REACHED, …); offline: VALID, or OFFLINE_EXPIRED / NO_LICENSE_FILE / the file's check code. */
  code: string;
  /** True when the answer comes from the cached license file because the API could not be reached. */
  offline: boolean;
  /** The API's answer, when there was one. */
  response?: Record<string, any>;
  /** The license file check behind an offline answer. */
  file?: LicenseFileCheck;
  error?: string;
}

export interface LicenseClient {
  activate(licenseKey: string, instanceName: string): Promise<LicenseResult>;
  /** Validate the stored license (or `licenseKey`); falls back to the license file when offline. */
  validate(licenseKey?: string): Promise<LicenseResult>;
  /** Free this machine's seat and forget the license. */
  deactivate(): Promise<LicenseResult>;
}

export function memoryStorage(): LicenseStorage {
  let value: StoredLicense | undefined;
  return { get: () => value, set: (v) => void (value = v) };
}

class Unreachable extends Error {}

export function createLicenseClient(options: LicenseClientOptions): LicenseClient {
  const storage = options.storage ?? memoryStorage();
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = options.baseUrl.replace(/\/+$/, '');
  const now = options.now ?? (() => new Date());

  async function post(route: 'activate' | 'validate' | 'deactivate', fields: Record<string, string | undefined>): Promise<{ status: number; body: Record<string, any> }> {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.set(name, value);
    let response: Response;
    try {
      response = await doFetch(`${base}/v1/licenses/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
    } catch (error) {
      throw new Unreachable((error as Error).message);
    }
    // Throttled or failing: not an answer about this license.
    if (response.status === 429 && !(await peekCode(response))) throw new Unreachable('throttled');
    if (response.status >= 500) throw new Unreachable(`HTTP ${response.status}`);
    const body = (await response.json().catch(() => ({}))) as Record<string, any>;
    return { status: response.status, body };
  }

  async function offline(reason: string): Promise<LicenseResult> {
    const stored = await storage.get();
    if (!stored) return { valid: false, code: 'NO_LICENSE_FILE', offline: true, error: `the license API cannot be reached (${reason}) and there is no license file` };
    const file = await verifyLicenseFile(stored.licenseFile, options.publicKey, {
      licenseId: stored.licenseId,
      now: now(),
      ...(options.fingerprint !== undefined ? { fingerprint: options.fingerprint } : {}),
    });
    if (file.valid) return { valid: true, code: 'VALID', offline: true, file };
    return { valid: false, code: file.code === 'EXPIRED' ? 'OFFLINE_EXPIRED' : file.code, offline: true, file, error: file.detail };
  }

  return {
    async activate(licenseKey, instanceName) {
      let answer: { status: number; body: Record<string, any> };
      try {
        answer = await post('activate', { license_key: licenseKey, instance_name: instanceName, fingerprint: options.fingerprint });
      } catch (error) {
        if (error instanceof Unreachable) return { valid: false, code: 'UNREACHABLE', offline: true, error: error.message };
        throw error;
      }
      const { body } = answer;
      if (body.activated === true && typeof body.license_file === 'string') {
        await storage.set({ licenseKey, licenseId: body.license_key.id, instanceId: body.instance?.id, licenseFile: body.license_file });
      }
      return { valid: body.activated === true, code: String(body.code ?? 'BAD_REQUEST'), offline: false, response: body, ...(body.error ? { error: String(body.error) } : {}) };
    },

    async validate(licenseKey) {
      const stored = await storage.get();
      const key = licenseKey ?? stored?.licenseKey;
      if (!key) return { valid: false, code: 'NO_LICENSE', offline: false, error: 'no license key: activate first' };
      const sameLicense = stored && stored.licenseKey === key;
      let answer: { status: number; body: Record<string, any> };
      try {
        answer = await post('validate', {
          license_key: key,
          instance_id: sameLicense ? stored.instanceId : undefined,
          fingerprint: sameLicense && stored.instanceId ? options.fingerprint : undefined,
        });
      } catch (error) {
        if (error instanceof Unreachable) return sameLicense ? offline(error.message) : { valid: false, code: 'UNREACHABLE', offline: true, error: error.message };
        throw error;
      }
      const { body } = answer;
      if (body.valid === true && typeof body.license_file === 'string') {
        await storage.set({ licenseKey: key, licenseId: body.license_key.id, ...(sameLicense && stored.instanceId ? { instanceId: stored.instanceId } : {}), licenseFile: body.license_file });
      } else if (sameLicense) {
        // A definite "no" (revoked, expired, deactivated, unknown): the cached file must not outlive it.
        await storage.set(undefined);
      }
      return { valid: body.valid === true, code: String(body.code ?? 'BAD_REQUEST'), offline: false, response: body, ...(body.error ? { error: String(body.error) } : {}) };
    },

    async deactivate() {
      const stored = await storage.get();
      if (!stored?.instanceId) return { valid: false, code: 'NO_LICENSE', offline: false, error: 'this machine has no activation' };
      let answer: { status: number; body: Record<string, any> };
      try {
        answer = await post('deactivate', { license_key: stored.licenseKey, instance_id: stored.instanceId });
      } catch (error) {
        if (error instanceof Unreachable) return { valid: false, code: 'UNREACHABLE', offline: true, error: error.message };
        throw error;
      }
      if (answer.body.deactivated === true || answer.body.code === 'INSTANCE_NOT_FOUND') await storage.set(undefined);
      return { valid: answer.body.deactivated === true, code: String(answer.body.code ?? 'BAD_REQUEST'), offline: false, response: answer.body };
    },
  };
}

/** A 429 with a license API code (RATE_LIMITED) is an answer; API Gateway's throttle is not. */
async function peekCode(response: Response): Promise<boolean> {
  try {
    const body = (await response.clone().json()) as { code?: unknown };
    return typeof body.code === 'string';
  } catch {
    return false;
  }
}
