import { pino, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../core/logger.js';

/**
 * Paths pino blanks out wherever they appear in a log object; secrets must never reach the logs,
 * even when a whole config or client options object is logged by mistake.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secretAccessKey',
  '*.secretAccessKey',
  '*.*.secretAccessKey',
  'url',
  '*.url',
  '*.*.url',
  'connectionString',
  '*.connectionString',
  'credentials',
  '*.credentials',
  'sasl',
  '*.sasl',
  'headers.authorization',
];

const URL_PASSWORD = /(\w+:\/\/[^:/@\s]+):[^@\s]*@/g;

/** Removes passwords from connection URLs inside free text (driver error messages carry them). */
export function scrubText(s: string): string {
  return s.replace(URL_PASSWORD, '$1:***@');
}

export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): PinoLogger & Logger {
  return pino(
    {
      name: opts.name ?? 'inventory-integrator',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        logMethod(args, method) {
          // A driver error message can embed its connection string; scrub every string argument.
          const clean = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as typeof args;
          return method.apply(this, clean);
        },
      },
      serializers: {
        err: (err: unknown) => {
          const s = pino.stdSerializers.err(err as Error);
          if (s && typeof s.message === 'string') s.message = scrubText(s.message);
          if (s && typeof s.stack === 'string') s.stack = scrubText(s.stack);
          return s;
        },
      },
    },
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 2, sync: false }),
  ) as PinoLogger & Logger;
}
