import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

export interface PlacedRecord {
  readonly shard: string;
  readonly seq: string;
}

/**
 * One PutRecords call's worth of entries (≤ 500), re-sending what the stream reports as failed
 * until all are in; returns where each landed, in the order they were accepted.
 */
export async function putRecordsPlaced(client: Pick<KinesisClient, 'send'>, stream: string, entries: readonly PutRecordsRequestEntry[]): Promise<PlacedRecord[]> {
  const placed: PlacedRecord[] = [];
  let pending = [...entries];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 10) throw new Error('PutRecords kept failing');
    const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
    const failed: PutRecordsRequestEntry[] = [];
    pending.forEach((e, j) => {
      const r = out.Records?.[j];
      if (!r || r.ErrorCode !== undefined || !r.ShardId || !r.SequenceNumber) failed.push(e);
      else placed.push({ shard: r.ShardId, seq: r.SequenceNumber });
    });
    pending = failed;
  }
  return placed;
}
