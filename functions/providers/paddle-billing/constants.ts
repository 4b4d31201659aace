/** Largest accepted body in bytes (413 beyond). A transaction with many items is tens of KB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];
