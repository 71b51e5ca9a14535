import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/**
 * A local copy of an S3 lake (read straight from s3rver, never through the fault proxy), keys
 * kept as paths so the lake check and the curated build read it like a file lake. Object keys are
 * deterministic per batch, so a key once copied is not fetched again.
 */
export class S3Mirror {
  private readonly copied = new Set<string>();

  constructor(
    private readonly client: Pick<S3Client, 'send'>,
    private readonly bucket: string,
    readonly dir: string,
    private readonly prefix = '',
  ) {}

  /** Copies objects not copied yet; returns every key in the bucket under the prefix. */
  async sync(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    for (const key of keys) {
      if (this.copied.has(key)) continue;
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const path = join(this.dir, key.slice(this.prefix.length));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await out.Body!.transformToByteArray());
      this.copied.add(key);
    }
    return keys;
  }
}
