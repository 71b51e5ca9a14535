import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { lakeEventIds } from '../multi-worker/lake.js';

/** Every key under a prefix of the bucket, sorted. */
export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Empties the bucket between tests. */
export async function clearBucket(s3: S3Client, bucket: string): Promise<void> {
  const keys = await listKeys(s3, bucket);
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
  }
}

/** How often each event id occurs in the raw table's objects (Parquet read by DuckDB, or NDJSON.gz). */
export async function eventIdCounts(s3: S3Client, bucket: string, table = 'inventory_changes'): Promise<Map<string, number>> {
  const keys = await listKeys(s3, bucket, `${table}/`);
  const counts = new Map<string, number>();
  const parquet = keys.filter((k) => k.endsWith('.parquet'));
  for (const k of keys.filter((key) => key.endsWith('.ndjson.gz'))) {
    for (const line of gunzipSync(await getObject(s3, bucket, k)).toString('utf8').split('\n')) {
      if (line === '') continue;
      const id = (JSON.parse(line) as { event_id: string }).event_id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  if (parquet.length > 0) {
    const dir = await mkdtemp(join(tmpdir(), 'lambda-lake-'));
    try {
      for (const k of parquet) {
        const file = join(dir, k);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, await getObject(s3, bucket, k));
      }
      for (const [id, n] of await lakeEventIds(dir)) counts.set(id, (counts.get(id) ?? 0) + n);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return counts;
}

export interface LetterLine {
  readonly position: { source: string; stream: string; shard: string; seq: string; sub?: number };
  readonly code: string;
  readonly reason: string;
  readonly payloadEncoding: 'utf8' | 'base64' | 'json';
  readonly payload: unknown;
}

/** The dead letters under the DLQ prefix, in key order. */
export async function deadLetters(s3: S3Client, bucket: string, prefix = 'dlq/'): Promise<LetterLine[]> {
  const out: LetterLine[] = [];
  for (const k of await listKeys(s3, bucket, prefix)) {
    for (const line of gunzipSync(await getObject(s3, bucket, k)).toString('utf8').split('\n')) if (line) out.push(JSON.parse(line) as LetterLine);
  }
  return out;
}
