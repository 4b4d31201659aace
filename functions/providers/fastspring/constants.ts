/** Largest accepted body in bytes (413 beyond). FastSpring's webhook batches are a few KB per event; 1 MiB leaves room for large batches. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];
