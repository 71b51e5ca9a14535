import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { IntegratorError, errorMessage } from '../../src/core/errors.js';
import type { ChangeList } from '../../src/core/change-columns.js';
import { type Encoder, toRawRow } from './encoder.js';

const SLICE = 1000;

function* lines(records: ChangeList): Generator<string> {
  // Joined in slices: one write per thousand rows, not per row.
  let s = '';
  let n = 0;
  for (const r of records) {
    s += `${JSON.stringify(toRawRow(r))}\n`;
    if (++n === SLICE) {
      yield s;
      s = '';
      n = 0;
    }
  }
  if (n > 0) yield s;
}

/** gzip-compressed NDJSON, one RAW_COLUMNS object per line (timestamps as ISO-8601 UTC). */
export class NdjsonGzEncoder implements Encoder {
  readonly extension = 'ndjson.gz';
  readonly contentType = 'application/x-ndjson';

  constructor(private readonly level = 6) {}

  async encodeToFile(records: ChangeList, path: string): Promise<{ bytes: number }> {
    try {
      await pipeline(Readable.from(lines(records)), createGzip({ level: this.level }), createWriteStream(path));
      return { bytes: (await stat(path)).size };
    } catch (err) {
      throw new IntegratorError('SINK_WRITE_FAILED', `cannot encode ${records.length} records as NDJSON to ${path}: ${errorMessage(err)}`, {
        cause: err,
        details: { path, records: records.length },
      });
    }
  }

  async close(): Promise<void> {}
}
