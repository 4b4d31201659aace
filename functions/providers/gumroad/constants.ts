/** Largest accepted body in bytes (413 beyond). A ping is a few hundred bytes plus custom fields. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Accepted media types, without parameters (415 otherwise): form by default, JSON if chosen. */
export const CONTENT_TYPES: readonly string[] = ['application/x-www-form-urlencoded', 'application/json'];

/** Shorter secrets are refused: the URL secret is all that authenticates the storefront. */
export { MIN_PATH_SECRET_LENGTH } from '../shared/pathSecret';
