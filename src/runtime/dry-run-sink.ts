import type { DeadLetter, DeadLetterSink, OutputBatch, Sink, WrittenObject } from '../core/ports.js';
import { objectKey } from '../../sinks/key.js';

/** For `replay --dry-run`: names the objects a replay would write, and writes nothing. */
export class DryRunSink implements Sink {
  readonly objects: WrittenObject[] = [];
  constructor(private readonly table: string, private readonly extension: string) {}

  async write(batch: OutputBatch): Promise<WrittenObject> {
    const o = { key: objectKey(this.table, batch, this.extension), records: batch.records.length, bytes: batch.bytes, partition: batch.partition };
    this.objects.push(o);
    return o;
  }

  async close(): Promise<void> {}
}

export class DryRunDlq implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async write(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
  }
  async close(): Promise<void> {}
}
