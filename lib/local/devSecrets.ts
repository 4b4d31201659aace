import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEV_ONLY_NAMES, SECRET_NAMES, SECRETS } from '../../functions/providers/registry';

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
/**
 * Private halves for the local sender, and the license public key; no handler reads them. Each
 * secret's `dev.companions` in the registry declares its own.
 */
export { DEV_ONLY_NAMES };
/** A secret's name or a dev-only companion's. */
export type DevSecretName = string;

export interface DevSecrets {
  /** Absolute path of the secrets file. */
  file: string;
  /** What the handlers see: the environment's value where set, else the file's. */
  values: Record<DevSecretName, string>;
  /** Secret names whose value came from the environment rather than the file. */
  fromEnvironment: string[];
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
  const fromEnvironment: string[] = [];
  for (const name of SECRET_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      values[name] = value;
      fromEnvironment.push(name);
    }
  }
  return { file, values, fromEnvironment };
}

/**
 * Each secret's own generator (its `dev` in the registry), run when the secret or one of its
 * companions is missing — so a key pair is always replaced as a pair, never half — in registry
 * order, so a value may build on one generated before it (Paddle's sandbox key is the live one).
 */
function generateMissing(stored: Partial<Record<DevSecretName, string>>): Partial<Record<DevSecretName, string>> {
  const out: Partial<Record<DevSecretName, string>> = {};
  for (const spec of SECRETS) {
    const current = { ...stored, ...out };
    const names = [spec.name, ...(spec.dev.companions ?? [])];
    if (names.some((name) => !current[name])) Object.assign(out, spec.dev.generate(current));
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
