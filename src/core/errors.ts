/**
 * One error type for the whole service: a stable `code` to count and alert on, whether trying
 * again can help, and the cause kept for the logs.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'RECORD_INVALID'
  | 'RECORD_UNDECODABLE'
  | 'RECORD_TOO_LARGE'
  | 'SINK_WRITE_FAILED'
  | 'SOURCE_READ_FAILED'
  | 'CHECKPOINT_FAILED'
  | 'LEASE_LOST'
  | 'ENRICHMENT_FAILED'
  | 'CATALOG_FAILED'
  | 'DEPENDENCY_UNAVAILABLE'
  | 'TIMEOUT'
  | 'SHUTDOWN'
  | 'INTERNAL';

export class IntegratorError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'IntegratorError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.details = opts.details ?? {};
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof IntegratorError ? err.retriable : false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
