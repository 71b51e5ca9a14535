import { createHash } from 'node:crypto';
import { IntegratorError } from '../src/core/errors.js';
import type { Position } from '../src/core/position.js';
import type { OutputBatch } from '../src/core/ports.js';

/**
 * Deterministic object keys: the same batch (same table, partition and first/last positions)
 * always gets the same key, so a retry or a replay overwrites instead of duplicating.
 *
 * Name parts are escaped so that a key can never leave its prefix (no "/", no "..", no control
 * characters) and so that two different (stream, shard, range) never share a key: the stream
 * and the sequences escape "-" too, the shard keeps it (shard ids like "shardId-000000000001"
 * stay readable), so the first two and the last two "-" always delimit the parts.
 */

const MAX_PART = 120;

function escapePart(s: string, keepDash: boolean): string {
  let out = '';
  for (const ch of s) {
    if (/^[A-Za-z0-9._]$/.test(ch) || (keepDash && ch === '-')) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // Long names are cut and made unique again with a hash; "~" is never produced by escaping.
  if (out.length > MAX_PART) out = `${out.slice(0, MAX_PART - 17)}~${createHash('sha256').update(s).digest('hex').slice(0, 16)}`;
  return out;
}

/** Escapes a stream name (or any free-form name) for use in an object key. */
export const safeName = (s: string): string => escapePart(s, false);
/** Escapes a shard id, keeping "-" as is. */
export const safeShard = (s: string): string => escapePart(s, true);

const seqPart = (p: Position): string => escapePart(p.sub === undefined ? p.seq : `${p.seq}_${p.sub}`, false);

/** `{source}-{stream}-{shard}-{firstSeq}-{lastSeq}` for a range of one shard. */
export function rangeName(first: Position, last: Position): string {
  if (first.source !== last.source || first.stream !== last.stream || first.shard !== last.shard) {
    throw new IntegratorError('INTERNAL', `a batch must hold one shard, got ${first.source}:${first.stream}/${first.shard} and ${last.source}:${last.stream}/${last.shard}`);
  }
  return `${first.source}-${safeName(first.stream)}-${safeShard(first.shard)}-${seqPart(first)}-${seqPart(last)}`;
}

// A segment with "=" can never be "." or "..": only control characters and "\\" need refusing.
const SEGMENT = /^[A-Za-z0-9_]+=[^/\\\u0000-\u001f\u007f]*$/;
const TABLE = /^[A-Za-z0-9_][A-Za-z0-9_\-/]*$/;

/** Refuses a prefix that could climb out of the lake ("..", "//", control characters...). */
export function assertSafePrefix(prefix: string, what: string): void {
  if (!TABLE.test(prefix) || prefix.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
    throw new IntegratorError('INTERNAL', `unsafe ${what} "${prefix}" for an object key (letters, digits, "_", "-" and single "/" only)`);
  }
}

/** Refuses a Hive partition path that is not `key=value[/key=value...]` with safely encoded values. */
export function assertSafePartitionPath(path: string): void {
  const segments = path.split('/');
  if (path === '' || segments.some((seg) => !SEGMENT.test(seg))) {
    throw new IntegratorError('INTERNAL', `unsafe partition path "${path}": expected key=value segments with encoded values`);
  }
}

export function objectKey(table: string, batch: OutputBatch, extension: string): string {
  assertSafePrefix(table, 'table');
  assertSafePartitionPath(batch.partition.path);
  return `${table}/${batch.partition.path}/${rangeName(batch.first, batch.last)}.${extension}`;
}
