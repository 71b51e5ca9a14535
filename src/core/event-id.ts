import { createHash } from 'node:crypto';
import type { Position } from './position.js';

/**
 * A stable id from the source position: the same record read twice (retry, replay, restart)
 * always gets the same id, which is what the curated layer deduplicates on.
 */
export function eventIdOf(p: Position): string {
  const h = createHash('sha256');
  h.update(`${p.source}\u0000${p.stream}\u0000${p.shard}\u0000${p.seq}\u0000${p.sub ?? ''}`);
  return h.digest('hex').slice(0, 32);
}
