import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's `gc()` for tests, without starting Node with --expose-gc: the flag set at run time makes
 * the function available to contexts created after it.
 */
export function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
