/** Largest accepted body in bytes (413 beyond). A Selldone order with a large basket stays well under 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];

/** Shorter secrets are refused: the URL secret is all that authenticates the storefront. */
export { MIN_PATH_SECRET_LENGTH } from '../shared/pathSecret';
