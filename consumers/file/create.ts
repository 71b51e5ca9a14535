import type { Logger } from '../../src/core/logger.js';
import type { CheckpointStore } from '../../src/core/ports.js';
import type { FileSourceConfig } from './config.js';
import { FileSource, type FileSourceOptions } from './source.js';

/** Composition-root entry: the file source with its checkpoint store and logger injected. */
export function createFileSource(
  config: FileSourceConfig,
  deps: { checkpoints: CheckpointStore; log: Logger; now?: () => number },
  opts: FileSourceOptions = {},
): FileSource {
  return new FileSource(config, deps, opts);
}
