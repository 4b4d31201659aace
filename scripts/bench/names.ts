/** The license API's function in the bundle list (not an ingress: goals of its own). */
export const LICENSING = 'licensing';
/** Its floor process's name among the timed cold-start candidates. */
export const LICENSING_FLOOR = 'licensing-floor';

/** What the console's search box takes (issue 13), each measured on its own. */
export const SEARCH_KINDS = ['email', 'order id', 'license key', 'license id'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];
