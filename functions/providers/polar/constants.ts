/** Largest accepted body in bytes (413 beyond). A subscription embeds its product: tens of KB at most. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];

/** Standard Webhooks' tolerance, both ways: older and newer timestamps are refused alike. */
export const POLAR_TOLERANCE_SECONDS = 300;
