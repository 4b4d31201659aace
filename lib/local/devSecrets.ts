import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SECRET_NAMES, type SecretName } from '../../functions/aws/secrets';

/**
 * Development secrets for the local stack: generated once, kept in `<stateDir>/dev-secrets.env`
 * (mode 0600) so that restarts, `keysmith send` and the handlers agree. A secret set in the
 * environment wins over the file. The file also holds the private halves the local sender needs
 * to sign like a provider would (`KEYSMITH_DEV_*`); those never exist outside a laptop.
 *
 * Format: dotenv. PEM values are double-quoted with `\n` escapes, JSON values single-quoted
 * (literal), so `node --env-file` and dotenv read the file as we do.
 */

export const DEV_SECRETS_FILE = 'dev-secrets.env';
/** The Marketplace Elements offer the dev key pair belongs to. */
export const DEV_ELEMENTS_OFFER = 'dev-offer';

/** Private halves for the local sender, and the license public key; no handler reads them. */
export const DEV_ONLY_NAMES = ['KEYSMITH_DEV_PADDLE_PRIVATE_KEY', 'KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS', 'KEYSMITH_DEV_LICENSE_PUBLIC_KEY'] as const;
export type DevOnlyName = (typeof DEV_ONLY_NAMES)[number];
export type DevSecretName = SecretName | DevOnlyName;

export interface DevSecrets {
  /** Absolute path of the secrets file. */
  file: string;
  /** What the handlers see: the environment's value where set, else the file's. */
  values: Record<DevSecretName, string>;
  /** Secret names whose value came from the environment rather than the file. */
  fromEnvironment: SecretName[];
}

export function devSecretsPath(stateDir: string = '.keysmith'): string {
  return resolve(stateDir, DEV_SECRETS_FILE);
}

/**
 * The values in `<stateDir>/dev-secrets.env`, or `undefined` when the local stack never ran
 * there. For the CLI: these are what a running local stack uses unless its environment said
 * otherwise (`GET /_local/stack` tells which file the stack used).
 */
export function readDevSecrets(stateDir: string = '.keysmith'): Partial<Record<DevSecretName, string>> | undefined {
  const file = devSecretsPath(stateDir);
  if (!existsSync(file)) return undefined;
  return parseEnvFile(readFileSync(file, 'utf8')) as Partial<Record<DevSecretName, string>>;
}

/** Reads the file, generates whatever is missing (first run, or a newly added secret) and saves. */
export function ensureDevSecrets(stateDir: string = '.keysmith', env: NodeJS.ProcessEnv = process.env): DevSecrets {
  const file = devSecretsPath(stateDir);
  const stored = (readDevSecrets(stateDir) ?? {}) as Partial<Record<DevSecretName, string>>;
  const generated = generateMissing(stored);
  const all = { ...stored, ...generated } as Record<DevSecretName, string>;
  if (Object.keys(generated).length > 0 || !existsSync(file)) {
    mkdirSync(resolve(stateDir), { recursive: true, mode: 0o700 });
    writeFileSync(file, formatEnvFile(all), { mode: 0o600 });
  }
  // `mode` applies only when the file is created; a copied-in file may be wider.
  chmodSync(file, 0o600);

  const values = { ...all };
  const fromEnvironment: SecretName[] = [];
  for (const name of SECRET_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      values[name] = value;
      fromEnvironment.push(name);
    }
  }
  return { file, values, fromEnvironment };
}

function generateMissing(stored: Partial<Record<DevSecretName, string>>): Partial<Record<DevSecretName, string>> {
  const out: Partial<Record<DevSecretName, string>> = {};
  const missing = (...names: DevSecretName[]): boolean => names.some((name) => !stored[name]);

  for (const name of ['KEYSMITH_FASTSPRING_SECRET', 'KEYSMITH_HOTMART_HOTTOK', 'KEYSMITH_LICENSE_SECRET'] as const) {
    if (missing(name)) out[name] = randomBytes(32).toString('base64url');
  }
  if (missing('KEYSMITH_SELLDONE_PATH_SECRET')) out.KEYSMITH_SELLDONE_PATH_SECRET = alphanumeric(40);

  // Key pairs are generated (and replaced) as pairs, never half.
  if (missing('KEYSMITH_PADDLE_PUBLIC_KEY', 'KEYSMITH_DEV_PADDLE_PRIVATE_KEY')) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    out.KEYSMITH_PADDLE_PUBLIC_KEY = pem(pair.publicKey.export({ type: 'spki', format: 'pem' }));
    out.KEYSMITH_DEV_PADDLE_PRIVATE_KEY = pem(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    // Sandbox webhooks are signed with the sandbox key; locally both are the dev key.
    out.KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY = out.KEYSMITH_PADDLE_PUBLIC_KEY;
  } else if (missing('KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY')) {
    out.KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY = stored.KEYSMITH_PADDLE_PUBLIC_KEY!;
  }
  if (missing('KEYSMITH_ELEMENTS_OFFER_KEYS', 'KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS')) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    out.KEYSMITH_ELEMENTS_OFFER_KEYS = JSON.stringify({ [DEV_ELEMENTS_OFFER]: pem(pair.publicKey.export({ type: 'spki', format: 'pem' })) });
    out.KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS = JSON.stringify({ [DEV_ELEMENTS_OFFER]: pem(pair.privateKey.export({ type: 'pkcs8', format: 'pem' })) });
  }
  if (missing('KEYSMITH_LICENSE_SIGNING_KEY', 'KEYSMITH_DEV_LICENSE_PUBLIC_KEY')) {
    const pair = generateKeyPairSync('ed25519');
    out.KEYSMITH_LICENSE_SIGNING_KEY = pem(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    out.KEYSMITH_DEV_LICENSE_PUBLIC_KEY = pem(pair.publicKey.export({ type: 'spki', format: 'pem' }));
  }
  return out;
}

function pem(value: string | Buffer): string {
  return value.toString();
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function alphanumeric(length: number): string {
  let out = '';
  // 62 does not divide 256: reject the top bytes so every character is equally likely.
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

// ---- dotenv, the subset we write -----------------------------------------------------------

export function formatEnvFile(values: Partial<Record<string, string>>): string {
  const lines = [
    '# keysmith local stack: development secrets, generated on first start. Never deploy these.',
    '# Delete this file to get new ones. Environment variables of the same name take precedence.',
  ];
  for (const name of [...SECRET_NAMES, ...DEV_ONLY_NAMES]) {
    const value = values[name];
    if (value !== undefined) lines.push(`${name}=${quote(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function quote(value: string): string {
  if (value.includes('\n')) return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  if (/^[A-Za-z0-9_\-.:/+=]*$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const [, name, raw] = match as unknown as [string, string, string];
    if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
      out[name] = raw.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    } else if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) {
      out[name] = raw.slice(1, -1);
    } else {
      out[name] = raw;
    }
  }
  return out;
}
