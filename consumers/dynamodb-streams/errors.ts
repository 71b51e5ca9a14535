import { IntegratorError, errorMessage } from '../../src/core/errors.js';

/**
 * How the shard loop reacts to a failed DynamoDB Streams call:
 * - `expired`: the iterator is older than 15 minutes; get a new one after the last record read.
 * - `trimmed`: the iterator points before the 24-hour retention; get a new one (see the reader).
 * - `throttled`: over the limits; back off, then a new iterator after the last record read.
 * - `transient`: network, 5xx, emulator restarts; back off and try again.
 * - `fatal`: the stream is gone or we may not read it; retrying will not help.
 */
export type FailureKind = 'expired' | 'trimmed' | 'throttled' | 'transient' | 'fatal';

const THROTTLED = new Set(['LimitExceededException', 'ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);
const FATAL = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'ValidationException', 'UnrecognizedClientException']);

export function classify(err: unknown): FailureKind {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'ExpiredIteratorException') return 'expired';
  if (name === 'TrimmedDataAccessException') return 'trimmed';
  if (typeof name === 'string' && THROTTLED.has(name)) return 'throttled';
  if (typeof name === 'string' && FATAL.has(name)) return 'fatal';
  return 'transient';
}

export function readFailed(what: string, err: unknown, details: Record<string, unknown> = {}): IntegratorError {
  if (err instanceof IntegratorError) return err;
  const kind = classify(err);
  return new IntegratorError('SOURCE_READ_FAILED', `${what}: ${errorMessage(err)}`, { retriable: kind !== 'fatal', cause: err, details: { ...details, kind } });
}

/** Named like the SDK's own exceptions, so `classify` treats an injected fault like a real one. */
export function awsError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}
