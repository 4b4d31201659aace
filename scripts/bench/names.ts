/** The license API's function in the bundle list (not an ingress: goals of its own). */
export const LICENSING = 'licensing';
/** Its floor process's name among the timed cold-start candidates. */
export const LICENSING_FLOOR = 'licensing-floor';
