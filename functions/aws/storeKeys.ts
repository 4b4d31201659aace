/**
 * Sort keys of a license's API partition (functions/domain/licenseView.ts `apiPartition`),
 * shared by the worker's store (SDK) and the licensing function's (light client), which must
 * not import each other.
 */
/** The license's view: its public terms, written by the worker. */
export const VIEW_SK = 'VIEW';
/** Its activations, written by the licensing function. */
export const INSTANCES_SK = 'INST';
