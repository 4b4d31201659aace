import * as z from 'zod/mini';
import './zodLocale';
import { canonicalId } from './canonicalEvent';
import { HASHED_ID_PREFIX } from './eventBounds';
import { PROVIDER_NAME_PATTERN, type ProviderName } from './events';

/**
 * The product catalog: which provider products map to which keysmith product, and how each
 * product is licensed and emailed. Validated at synth time (the stack) and at cold start.
 */

export const LICENSE_FORMATS = ['key', 'signed'] as const;
export type LicenseFormat = (typeof LICENSE_FORMATS)[number];

const durationSchema = z.union([
  /** Never expires. */
  z.literal('perpetual'),
  /** Follows the provider's subscription period (extended on renewal). */
  z.literal('subscription'),
  /** Fixed number of days from issue. */
  z.strictObject({ days: z.number().check(z.int(), z.positive(), z.maximum(36_500)) }),
]);
export type Duration = z.infer<typeof durationSchema>;

export const licensePolicySchema = z.strictObject({
  /** @default 'key' */
  format: z._default(z.enum(LICENSE_FORMATS), 'key'),
  /**
   * `true`: one license per purchased unit. `false`: one license whose seats are the quantity.
   * @default true
   */
  perUnit: z._default(z.boolean(), true),
  /**
   * Seats on each license: `'quantity'` takes them from the order, a number fixes them.
   * With `perUnit: true` and `'quantity'`, each license has one seat.
   * @default 'quantity'
   */
  seats: z._default(z.union([z.literal('quantity'), z.number().check(z.int(), z.positive(), z.maximum(1_000_000))]), 'quantity'),
  /** @default 'perpetual' */
  duration: z._default(durationSchema, 'perpetual'),
});
export type LicensePolicy = z.infer<typeof licensePolicySchema>;

export const emailTemplateSchema = z.strictObject({
  /** Subject line; `{product}` and `{order}` are replaced (escaped). */
  subject: z._default(z.string().check(z.minLength(1), z.maxLength(200)), 'Your {product} license'),
  /** First paragraph, plain text. */
  intro: z._default(z.string().check(z.maxLength(2000)), 'Thank you for your purchase. Here is your license:'),
  /**
   * Activation instructions. Allowed tags: <b> <strong> <i> <em> <code> <br> <p> <ul> <ol> <li>
   * and <a href="https://…">. Everything else is escaped.
   */
  instructions: z._default(z.string().check(z.maxLength(10_000)), ''),
  /** Send the license email at all (Paddle delivers its own). @default true (false for paddle) */
  send: z.optional(z.boolean()),
  /** Also email the customer when a license is revoked. @default false */
  notifyRevoke: z._default(z.boolean(), false),
  /** Also email the customer when a license is renewed. @default false */
  notifyRenew: z._default(z.boolean(), false),
});
export type EmailTemplate = z.infer<typeof emailTemplateSchema>;

/** How the license API (POST /v1/licenses/…) treats this product's licenses (docs/license-api.md). */
export const licenseApiSchema = z.strictObject({
  /**
   * Days an activation or validation keeps the app working offline: the `exp` of the license
   * file it returns. @default 14
   */
  refreshDays: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(365)), 14),
  /** Show the customer's full email in `meta.customer_email` (else masked). @default false */
  showCustomerEmail: z._default(z.boolean(), false),
  /** Licenses from provider test orders validate and activate. @default false */
  allowTest: z._default(z.boolean(), false),
  /** Activations one license may make per UTC day (deactivations free seats, not this budget). @default 20 */
  activationsPerDay: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(10_000)), 20),
});
export type LicenseApiPolicy = z.infer<typeof licenseApiSchema>;
export const DEFAULT_LICENSE_API: LicenseApiPolicy = z.parse(licenseApiSchema, {});

export const productSchema = z.strictObject({
  /** Shown to the customer. */
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  /** Provider product ids (FastSpring path, Paddle product id, …) that mean this product. */
  match: z._default(z.record(z.string().check(z.regex(PROVIDER_NAME_PATTERN)), z.array(z.string().check(z.minLength(1))).check(z.maxLength(1000))), {}),
  license: z._default(licensePolicySchema, z.parse(licensePolicySchema, {})),
  email: z._default(emailTemplateSchema, z.parse(emailTemplateSchema, {})),
  licenseApi: z._default(licenseApiSchema, DEFAULT_LICENSE_API),
});
export type Product = z.infer<typeof productSchema>;

const emailAddress = z.string().check(z.regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, 'must be an email address'));

export const catalogSchema = z
  .strictObject({
    sender: z.strictObject({
      /** Verified SES identity the emails come from. */
      from: emailAddress,
      /** Display name in the From header. */
      name: z.optional(z.string().check(z.maxLength(100))),
      replyTo: z.optional(emailAddress),
    }),
    products: z.record(z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/)), productSchema),
    /** Catch-all product for provider products no `match` names. Omit to refuse unknown ones. */
    defaultProduct: z.optional(z.string()),
    /** Hotmart sends its test events for product id 0; ignore them unless this is true. */
    hotmartAcceptTestProduct: z._default(z.boolean(), false),
  })
  .check(
    z.superRefine((catalog, ctx) => {
      if (catalog.defaultProduct !== undefined && !(catalog.defaultProduct in catalog.products)) {
        ctx.addIssue({ code: 'custom', path: ['defaultProduct'], message: `no product "${catalog.defaultProduct}"` });
      }
      const seen = new Map<string, string>();
      for (const [id, product] of Object.entries(catalog.products)) {
        for (const [provider, ids] of Object.entries(product.match)) {
          for (const providerId of ids ?? []) {
            const key = `${provider}:${providerId}`;
            const other = seen.get(key);
            if (other) {
              ctx.addIssue({ code: 'custom', path: ['products', id, 'match'], message: `${key} is also matched by "${other}"` });
            }
            seen.set(key, id);
          }
        }
      }
    }),
  );
export type Catalog = z.infer<typeof catalogSchema>;

export interface ResolvedProduct {
  id: string;
  product: Product;
}

/** Error with a code a seller can act on; never carries a secret or a full email address. */
export class CatalogError extends Error {
  constructor(
    readonly code: 'CONFIG_INVALID' | 'UNKNOWN_PRODUCT',
    message: string,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}

/** Validate a parsed JSON config; throws a CatalogError listing every problem. */
export function parseCatalog(input: unknown): Catalog {
  const result = z.safeParse(catalogSchema, input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CatalogError('CONFIG_INVALID', `keysmith config is invalid:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** Find the keysmith product for a provider product id, or the catch-all. */
export function resolveProduct(catalog: Catalog, provider: ProviderName, providerProductId: string): ResolvedProduct | undefined {
  // A seller's own grant names the catalog product itself, and never falls back to the default.
  if (provider === 'manual') {
    const product = Object.hasOwn(catalog.products, providerProductId) ? catalog.products[providerProductId] : undefined;
    return product ? { id: providerProductId, product } : undefined;
  }
  // An id too long to keep arrives hashed (eventBounds.ts); the seller's config names it in full.
  const hashed = providerProductId.startsWith(HASHED_ID_PREFIX);
  for (const [id, product] of Object.entries(catalog.products)) {
    const ids = product.match[provider];
    if (ids?.includes(providerProductId) || (hashed && ids?.some((m) => canonicalId(m) === providerProductId))) return { id, product };
  }
  if (catalog.defaultProduct !== undefined) {
    const product = catalog.products[catalog.defaultProduct];
    if (product) return { id: catalog.defaultProduct, product };
  }
  return undefined;
}

/** Whether keysmith sends its own license email for this product and provider. */
export function sendsLicenseEmail(product: Product, provider: ProviderName): boolean {
  // Paddle emails our synchronous answer itself; a second email would confuse the customer.
  return product.email.send ?? provider !== 'paddle';
}
