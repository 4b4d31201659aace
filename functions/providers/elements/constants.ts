/** Largest accepted body in bytes (413 beyond). A Marketplace Elements envelope carries one JWT of a few KB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];
