import type { ProviderSetting } from '../types';

/** Longest signature tolerance a setting may ask for: a day. */
export const MAX_TOLERANCE_SECONDS = 86_400;

/**
 * A signature-age tolerance setting: a whole number of seconds from 1 to a day. The ingress reads
 * it from its environment and falls back to the default on anything else; a deployment refuses
 * anything else at synth, so a typo never silently means the default.
 */
export function toleranceSetting(name: string, defaultSeconds: number, about: string): ProviderSetting {
  return {
    name,
    about: `${about} (default ${defaultSeconds} s)`,
    problem: (value) => {
      if (!/^\d+$/.test(value.trim())) return `must be a whole number of seconds, got "${value}"`;
      return toleranceFrom(value, 0) === 0 ? `must be from 1 to ${MAX_TOLERANCE_SECONDS} seconds, got ${value.trim()}` : undefined;
    },
  };
}

/** The tolerance `raw` asks for when it is valid (see `toleranceSetting`), else `defaultSeconds`. */
export function toleranceFrom(raw: string | undefined, defaultSeconds: number): number {
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return defaultSeconds;
  const seconds = Number(raw.trim());
  return seconds >= 1 && seconds <= MAX_TOLERANCE_SECONDS ? seconds : defaultSeconds;
}
