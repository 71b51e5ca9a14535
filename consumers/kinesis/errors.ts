import { IntegratorError, errorMessage } from '../../src/core/errors.js';

/**
 * How the shard loop reacts to a failed Kinesis call:
 * - `expired`: the iterator is older than 5 minutes; get a fresh one after the last record read.
 * - `throttled`: over the shard's or account's limits; back off and try again.
 * - `transient`: network, 5xx, emulator restarts; back off and try again.
 * - `fatal`: the stream is gone or we may not read it; retrying will not help.
 */
export type FailureKind = 'expired' | 'throttled' | 'transient' | 'fatal';

const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'KMSThrottlingException', 'ThrottlingException']);
const FATAL = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSNotFoundException',
  'KMSInvalidStateException',
  'KMSOptInRequired',
  'ValidationException',
]);

export function classify(err: unknown): FailureKind {
  const name = (err as { name?: unknown })?.name;
  if (name === 'ExpiredIteratorException') return 'expired';
  if (typeof name === 'string' && THROTTLED.has(name)) return 'throttled';
  if (typeof name === 'string' && FATAL.has(name)) return 'fatal';
  return 'transient';
}

export function readFailed(what: string, err: unknown, details: Record<string, unknown>): IntegratorError {
  const kind = classify(err);
  return new IntegratorError('SOURCE_READ_FAILED', `${what}: ${errorMessage(err)}`, {
    retriable: kind !== 'fatal',
    cause: err,
    details: { ...details, kind },
  });
}

/** Named like the SDK's own so `classify` treats an injected fault the same as a real one. */
export function awsError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}
