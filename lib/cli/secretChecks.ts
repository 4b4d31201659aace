import { SECRETS, secretBaseName, secretSpec } from '../../functions/providers/registry';

/**
 * What each secret must look like, checked before `secrets set` stores it and by `doctor` for
 * what is stored. Each secret declares its own check (its provider's `registration.ts`, or
 * functions/config/licenseSecrets.ts). Messages never contain the value.
 */

/** Which provider a secret belongs to (the rest are the license keys). */
export const SECRET_PROVIDER: Readonly<Record<string, string>> = Object.fromEntries(SECRETS.filter((s) => s.owner !== 'license').map((s) => [s.name, s.owner]));

/** A name `secrets set` accepts: a declared secret, or `<NAME>_PREVIOUS` of a rotatable one. */
export { secretBaseName };

/** The problem with a value for `name`, or undefined when it is fine. */
export function secretProblem(name: string, value: string): string | undefined {
  if (value.trim() === '') return 'is empty';
  return secretSpec(name)?.problem?.(value);
}
