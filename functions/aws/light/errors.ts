/**
 * An AWS call that failed. `code` is the AWS error code (`ThrottlingException`,
 * `ResourceNotFoundException`, …) or, when no answer arrived, `NetworkError` / `TimeoutError`.
 * The message names the operation and never carries credentials or request bodies.
 */
export class AwsCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status, 0 when no answer arrived. */
    readonly status: number,
    /** Whether trying again may succeed (throttling, 5xx, network). */
    readonly retryable: boolean,
    /** Attempts made, including the one that produced this error. */
    readonly attempts: number = 1,
  ) {
    super(message);
    // `name` is the AWS code, like the SDK's exceptions, so `error.name === 'ThrottlingException'` works for both.
    this.name = code;
  }
}

/** Configuration the light client cannot work without (credentials, region). */
export class AwsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsConfigError';
  }
}

/** Error codes AWS uses for "slow down" (the SDK's throttling list, for the services keysmith calls). */
export const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'KMSThrottlingException',
]);

/** Error codes of transient server-side failures. */
export const TRANSIENT_CODES = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalError', 'InternalFailure', 'InternalServerError', 'ServiceUnavailable']);
