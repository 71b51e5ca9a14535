import { IntegratorError, errorMessage } from './errors.js';

/**
 * Imports the module(s) of one configured adapter, on demand: a process then carries only the
 * SDKs its configuration uses (each AWS client is 15-30 MB of memory once loaded, kafkajs, pg,
 * mysql2 and DuckDB 13-35 MB each). A module that cannot be loaded (a package left out of a slim
 * install) fails start-up with a message naming the adapter, e.g. `sink.type "s3"`.
 */
export async function loadAdapter<M>(adapter: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (err) {
    throw new IntegratorError('DEPENDENCY_UNAVAILABLE', `${adapter}: cannot load its module: ${errorMessage(err)}`, { cause: err });
  }
}
