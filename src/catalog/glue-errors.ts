/**
 * How the catalog reads Glue's errors. The SDK names its exceptions by `name`; per-entry errors
 * of batch calls carry the same names in `ErrorDetail.ErrorCode`, so both go through one table.
 */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
]);

/** Faults where the same request may well succeed a moment later. */
const TRANSIENT = new Set([
  'InternalServiceException',
  'OperationTimeoutException',
  'ConcurrentModificationException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  for (const v of [e.name, e.Code, e.code]) if (typeof v === 'string' && v !== 'Error') return v;
  return undefined;
}

export function isThrottlingName(name: string | undefined): boolean {
  return name !== undefined && THROTTLING.has(name);
}

/** Whether another attempt of the same Glue call can help. */
export function isRetriableGlueError(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name !== undefined && (THROTTLING.has(name) || TRANSIENT.has(name) || NETWORK_CODES.has(name))) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: unknown };
  if (e.$retryable) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

export const hasName = (err: unknown, name: string): boolean => awsErrorName(err) === name;
