import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CURATED_SCHEMAS, curatedTableDdl, rawTableDdl, rawTableProjectionDdl } from '../../src/catalog/athena-ddl.js';
import { CURATED_TABLES } from '../../src/catalog/curated-sql.js';

const RAW = { database: 'inventory_lake', lakeRoot: 's3://YOUR-LAKE-BUCKET/raw' };
const CURATED = { database: 'inventory_lake', curatedRoot: 's3://YOUR-LAKE-BUCKET/curated' };

describe('Athena DDL', () => {
  it('is in docs/athena.md exactly as generated from the column lists', async () => {
    const doc = await readFile('docs/athena.md', 'utf8');
    expect(doc).toContain(rawTableDdl(RAW));
    expect(doc).toContain(rawTableProjectionDdl(RAW));
    for (const t of CURATED_TABLES) expect(doc).toContain(curatedTableDdl(CURATED, t));
  });

  it('describes every curated table the SQL builds', () => {
    expect(Object.keys(CURATED_SCHEMAS).sort()).toEqual([...CURATED_TABLES].sort());
  });

  it('moves extra partition keys out of the data columns and projects them as injected', () => {
    const ddl = rawTableProjectionDdl({ ...RAW, extraKeys: ['warehouse_id'] });
    expect(ddl).toContain('PARTITIONED BY (dt string, hour string, warehouse_id string)');
    expect(ddl).not.toMatch(/^\s+warehouse_id\s+string/m);
    expect(ddl).toContain(`'projection.warehouse_id.type' = 'injected'`);
    expect(ddl).toContain('/inventory_changes/dt=${dt}/hour=${hour}/warehouse_id=${warehouse_id}/');
  });
});
