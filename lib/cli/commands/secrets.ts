import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ROTATABLE_TITLES, SECRET_NAMES, secretOwner, secretSpec } from '../../../functions/providers/registry';
import { devSecretsPath, formatEnvFile, readDevSecrets } from '../../local/devSecrets';
import { CliError, EXIT, type Output, usageError } from '../output';
import { readHidden } from '../prompt';
import { secretBaseName, secretProblem } from '../secretChecks';
import { awsError, findLocalStack, parseSecretJson, type Target } from '../target';

/**
 * `keysmith secrets set <NAME> [--from-file F]`: the value comes from the file or from stdin and
 * is never echoed. AWS: merged into the Secrets Manager JSON of the secret the name belongs in —
 * its provider's secret, or the license secret (docs/security.md) — and removed from the license
 * secret where a stack deployed before the split kept it; the functions re-read it within a
 * minute when a verification fails, so no deploy is needed. Local: written into the stack's dev
 * secrets file; restart `npm start` to use it.
 */

/** `secrets set --json`. */
export interface SecretSetResult {
  name: string;
  target: 'aws' | 'local';
  /** AWS: the secret's ARN; local: the dev secrets file. */
  where: string;
  /** False when the stored value was already this one. */
  changed: boolean;
  /** Whether something must be restarted to use it (the local stack reads the file at start). */
  restart: boolean;
}

export interface SecretSetOptions {
  fromFile?: string;
  force: boolean;
  /** Where the local dev secrets file lives when no local stack runs. @default '.keysmith' */
  stateDir?: string;
}

export async function secretsSet(name: string, options: SecretSetOptions, targetOptions: { stack?: string }, target: () => Promise<Target>, out: Output): Promise<void> {
  const base = secretBaseName(name);
  if (!base) throw usageError(`unknown secret "${name}"; one of: ${SECRET_NAMES.join(', ')} (or <NAME>_PREVIOUS of the ${ROTATABLE_TITLES.join(', ')} secrets during a rotation)`);
  const value = await readValue(options.fromFile);
  const problem = secretProblem(base, value);
  if (problem) throw usageError(`${name} ${problem}`);

  const aws = Boolean(targetOptions.stack ?? process.env.KEYSMITH_STACK);
  const result = aws ? await setInAws(name, value, options, await target()) : await setLocally(name, value, options);
  const pair = secretSpec(name)?.dev.signsWith ? secretOwner(name) : undefined;
  if (!aws && result.changed && pair) out.note(`note: \`keysmith send ${pair}\` signs locally with the dev private key in the same file, which does not belong to the key you set`);
  out.result(result, () =>
    [
      `${name} ${result.changed ? 'set' : 'unchanged (same value)'} in ${result.where}`,
      ...(result.restart ? ['Restart `npm start` to use it (the local stack reads the file when it starts).'] : []),
      ...(result.target === 'aws' && result.changed ? ['The functions pick it up on their next cold start, or within a minute when a webhook fails verification.'] : []),
    ].join('\n'),
  );
}

async function setInAws(name: string, value: string, options: SecretSetOptions, t: Target): Promise<SecretSetResult> {
  const { GetSecretValueCommand, PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = await t.secretsManager();
  const owner = secretOwner(name);
  // A stack deployed before the split has no provider secrets: everything stays in the one secret.
  const arn = (owner && owner !== 'license' && t.providerSecretArns?.[owner]) || t.secretArn!;
  const read = async (secretId: string): Promise<Record<string, string>> => {
    try {
      return parseSecretJson((await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString);
    } catch (error) {
      throw awsError(error, 'cannot read the keysmith secret');
    }
  };
  const write = async (secretId: string, values: Record<string, string>): Promise<void> => {
    try {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(values) }));
    } catch (error) {
      throw awsError(error, 'cannot store the keysmith secret');
    }
  };
  const current = await read(arn);
  guardLicenseSecret(name, current[name], value, options.force);
  const changed = current[name] !== value;
  if (changed) await write(arn, { ...current, [name]: value });
  if (arn !== t.secretArn) {
    // Moved out of the license secret, which every ingress can read (only after the new home holds it).
    const { [name]: legacy, ...rest } = await read(t.secretArn!);
    if (legacy !== undefined) await write(t.secretArn!, rest);
  }
  return { name, target: 'aws', where: arn, changed, restart: false };
}

async function setLocally(name: string, value: string, options: SecretSetOptions): Promise<SecretSetResult> {
  if (name.endsWith('_PREVIOUS')) {
    throw usageError(`the local stack does not read ${name} from its dev secrets file; set it in the environment of \`npm start\` instead (${name}=… npm start)`);
  }
  // The running stack says which file it uses; without one, the default of `npm start`.
  const file = await findLocalStack().then(
    (info) => info.secretsFile,
    () => devSecretsPath(options.stateDir ?? '.keysmith'),
  );
  const stateDir = dirname(file);
  const current = (readDevSecrets(stateDir) ?? {}) as Record<string, string | undefined>;
  guardLicenseSecret(name, current[name], value, options.force);
  const changed = current[name] !== value;
  if (changed) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, formatEnvFile({ ...current, [name]: value }), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { name, target: 'local', where: file, changed, restart: changed };
}

/** Every issued key is derived from the license secret: changing it orphans them all. */
function guardLicenseSecret(name: string, current: string | undefined, value: string, force: boolean): void {
  if (name !== 'KEYSMITH_LICENSE_SECRET' || !current || current === value || force) return;
  throw new CliError(
    'KEYSMITH_LICENSE_SECRET is already set and every issued key is derived from it: changing it makes issued keys unverifiable against new derivations. Pass --force if you really mean it.',
    EXIT.failed,
  );
}

async function readValue(fromFile: string | undefined): Promise<string> {
  let raw: string;
  if (fromFile) {
    if (!existsSync(fromFile)) throw usageError(`--from-file ${fromFile} does not exist`);
    try {
      raw = readFileSync(fromFile, 'utf8');
    } catch (error) {
      throw usageError(`cannot read --from-file ${fromFile}: ${(error as Error).message}`);
    }
  } else {
    // On a terminal the value is read without echo; piped stdin is read as it is.
    raw = await readHidden(process.stdin, process.stderr, 'Paste or type the value (not shown), then press Enter: ');
  }
  // A trailing newline from a file or a paste is never part of a secret.
  const value = raw.replace(/\r?\n$/, '');
  if (value.trim() === '') throw usageError(fromFile ? `--from-file ${fromFile} is empty` : 'no value on stdin; pipe it in or use --from-file F');
  return value;
}
