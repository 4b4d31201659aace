import { LICENSE_SECRETS } from '../config/licenseSecrets';
import { elementsRegistration } from './elements/registration';
import { fastspringRegistration } from './fastspring/registration';
import { gumroadRegistration } from './gumroad/registration';
import { hotmartRegistration } from './hotmart/registration';
import { lemonsqueezyRegistration } from './lemonsqueezy/registration';
import { manualRegistration } from './manual/registration';
import { paddleRegistration } from './paddle/registration';
import { paddleBillingRegistration } from './paddle-billing/registration';
import { polarRegistration } from './polar/registration';
import { selldoneRegistration } from './selldone/registration';
import { stripeRegistration } from './stripe/registration';
import { isWebhookProvider, type ProviderRegistration, type SecretSpec, type WebhookRegistration } from './types';

export type { ProviderRegistration, RouteSpec, SecretSpec, WebhookRegistration } from './types';

/**
 * Every provider keysmith speaks to. Adding a provider adds its folder (with a `registration.ts`,
 * see docs/adding-a-provider.md) and one line here; the CDK stack, the local stack, the CLI, the
 * soak, the fuzzing, the benchmarks and the docs all read this list. Never imported by a Lambda
 * entry (each handler imports only its own folder).
 */
export const PROVIDER_REGISTRY: readonly ProviderRegistration[] = [
  // One line each (the comment keeps the formatter from joining them), so additions merge cleanly.
  fastspringRegistration, // docs/providers (README § FastSpring)
  paddleRegistration, // docs/providers/paddle.md
  elementsRegistration, // docs/providers/elements.md
  hotmartRegistration, // docs/providers/hotmart.md
  selldoneRegistration, // docs/providers/selldone.md
  lemonsqueezyRegistration, // docs/providers/lemonsqueezy.md
  polarRegistration, // docs/providers/polar.md
  gumroadRegistration, // docs/providers/gumroad.md
  stripeRegistration, // docs/providers/stripe.md
  paddleBillingRegistration, // docs/providers/paddle-billing.md
  manualRegistration, // keysmith grant: no webhooks
];

// ---- views every consumer shares ------------------------------------------------------------

/** The providers that receive webhooks: one ingress Lambda each. */
export const WEBHOOK_PROVIDERS: readonly WebhookRegistration[] = PROVIDER_REGISTRY.filter(isWebhookProvider);

/** Every provider name, in registry order. */
export const PROVIDER_NAMES: readonly string[] = PROVIDER_REGISTRY.map((r) => r.name);

export function findProvider(name: string): ProviderRegistration | undefined {
  return PROVIDER_REGISTRY.find((r) => r.name === name);
}

export function findWebhookProvider(name: string): WebhookRegistration | undefined {
  return WEBHOOK_PROVIDERS.find((r) => r.name === name);
}

/** Who keeps a secret in AWS: its provider's own secret, or the license secret. */
export type SecretOwner = string;
export const LICENSE_OWNER = 'license';

/** Every secret keysmith reads, with its owner: each provider's, then the license secrets. */
export const SECRETS: readonly (SecretSpec & { owner: SecretOwner })[] = [
  ...PROVIDER_REGISTRY.flatMap((r) => r.secrets.map((spec) => ({ ...spec, owner: r.name }))),
  ...LICENSE_SECRETS.map((spec) => ({ ...spec, owner: LICENSE_OWNER })),
];

/** Every secret name (environment variable locally, JSON key in AWS). */
export const SECRET_NAMES: readonly string[] = SECRETS.map((s) => s.name);

/** Values only a developer's machine has (the private halves the local sender signs with). */
export const DEV_ONLY_NAMES: readonly string[] = SECRETS.flatMap((s) => s.dev.companions ?? []);

export function secretSpec(name: string): (SecretSpec & { owner: SecretOwner }) | undefined {
  return SECRETS.find((s) => s.name === name);
}

/** The secret a (possibly `_PREVIOUS`) name belongs in; undefined for a name keysmith does not read. */
export function secretOwner(name: string): SecretOwner | undefined {
  const base = name.endsWith('_PREVIOUS') ? name.slice(0, -'_PREVIOUS'.length) : name;
  return secretSpec(base)?.owner;
}

/** A name `secrets set` accepts: a secret's name, or `<NAME>_PREVIOUS` of a rotatable one. Returns the base name. */
export function secretBaseName(name: string): string | undefined {
  if (secretSpec(name)) return name;
  const base = name.endsWith('_PREVIOUS') ? name.slice(0, -'_PREVIOUS'.length) : undefined;
  return base && secretSpec(base)?.rotatable ? base : undefined;
}

/** The titles of the providers whose secrets rotate (for messages). */
export const ROTATABLE_TITLES: readonly string[] = PROVIDER_REGISTRY.filter((r) => r.secrets.some((s) => s.rotatable)).map((r) => r.title);

/** The names of one provider's secrets. */
export function secretNamesOf(provider: string): string[] {
  return SECRETS.filter((s) => s.owner === provider).map((s) => s.name);
}
