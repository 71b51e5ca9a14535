/**
 * Where things live in the lake bucket. The runtime (sinks/config.ts: `table`, `dlqPrefix`, and
 * the catalog's `curated_path`) and the IAM policies must agree on these prefixes, so they are
 * named once here and handed to both: the roles get exactly these prefixes and nothing else.
 */
export interface LakeLayout {
  /** Raw layer folder and Glue table name (sink.table). */
  readonly rawTable: string;
  /** Dead letters (sink.dlqPrefix). */
  readonly dlqPrefix: string;
  /** Curated tables written by the Glue job. */
  readonly curatedPrefix: string;
  /** Reference data (orders, customers) the curated job joins. */
  readonly referencePrefix: string;
  /** Spark scratch space of the Glue job (--TempDir). */
  readonly glueTempPrefix: string;
}

export const DEFAULT_LAYOUT: LakeLayout = {
  rawTable: 'inventory_changes',
  dlqPrefix: 'dlq',
  curatedPrefix: 'curated',
  referencePrefix: 'reference',
  glueTempPrefix: 'glue-temp',
};

const PREFIX = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

/** Fails at synth time, naming the key, rather than deploying roles that match nothing. */
export function validateLayout(layout: LakeLayout): LakeLayout {
  for (const [key, value] of Object.entries(layout)) {
    if (!PREFIX.test(value)) throw new Error(`lake layout ${key}="${value}" must be a relative S3 prefix without leading/trailing "/" (letters, digits, _ and -)`);
  }
  const all = Object.values(layout);
  for (const a of all) {
    // A role granted "curated/*" must not be able to touch the raw layer through a nested prefix.
    const nested = all.find((b) => b !== a && b.startsWith(`${a}/`));
    if (nested) throw new Error(`lake layout prefixes must not nest: "${nested}" is inside "${a}"`);
  }
  return layout;
}

/** The object ARN pattern of everything under one prefix. */
export const objectsUnder = (bucketArn: string, prefix: string): string => `${bucketArn}/${prefix}/*`;

/** s3:// URI of a prefix, with the trailing slash Glue and Spark expect for folders. */
export const s3Uri = (bucketName: string, prefix: string): string => `s3://${bucketName}/${prefix}/`;
