/**
 * Which S3 failures are worth another attempt: server errors (5xx), throttling, timeouts and
 * network errors. Everything else (AccessDenied, NoSuchBucket, InvalidArgument...) will fail
 * the same way again and is reported at once.
 */
const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_STREAM_PREMATURE_CLOSE']);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

export function httpStatusOf(err: unknown): number | undefined {
  return (err as AwsLikeError | undefined)?.$metadata?.httpStatusCode;
}

export function isTransientS3Error(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as AwsLikeError;
  const status = httpStatusOf(e);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable) return true;
  if (status === undefined && /socket hang up|timed? ?out/i.test(e.message ?? '')) return true;
  // Known 4xx answers are final, even when wrapped.
  if (status !== undefined) return false;
  return isTransientS3Error(e.cause, depth + 1);
}

/** "AccessDenied (HTTP 403): Access Denied" for log lines and error messages. */
export function describeS3Error(err: unknown): string {
  const e = (err ?? {}) as AwsLikeError;
  const status = httpStatusOf(e);
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
}
