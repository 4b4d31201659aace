/** Largest accepted body in bytes (413 beyond). An order or subscription document is a few KB. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];

/** Lemon Squeezy accepts signing secrets of 6 to 40 characters. */
export const SECRET_LENGTH = { min: 6, max: 40 } as const;
