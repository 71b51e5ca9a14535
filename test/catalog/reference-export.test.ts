import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlString } from '../../src/catalog/duckdb-sql.js';
import { exportReferenceRows, rowsOf } from '../../src/catalog/reference.js';
import { IntegratorError } from '../../src/core/errors.js';
import { createMysqlSample, createPostgresSample } from '../fixtures/sql/databases.js';
import { RawLakeWriter } from './raw-lake.js';

describe('reference tables exported from the operational database into the lake', () => {
  let lake: string;
  let reader: RawLakeWriter;
  const read = (table: string, cols: string) => reader.query(`SELECT ${cols} FROM read_parquet(${sqlString(join(lake, 'reference', table, '*.parquet'))}) ORDER BY 1`);

  beforeAll(async () => {
    lake = await mkdtemp(join(tmpdir(), 'reference-'));
    reader = await RawLakeWriter.open(lake);
  });
  afterAll(async () => {
    reader?.close();
    await rm(lake, { recursive: true, force: true });
  });

  it('writes orders and customers from a PostgreSQL query result (numeric as text, timestamptz as Date) with the reference types', async () => {
    const db = await createPostgresSample({ customers: 12, orders: 30 }, { prefix: 'cat' });
    let source: Record<string, unknown>[];
    try {
      const orders = await db.admin.query(`SELECT * FROM ${db.tables.orders}`);
      const customers = await db.admin.query(`SELECT * FROM ${db.tables.customers}`);
      source = orders.rows as Record<string, unknown>[];
      expect(typeof source[0]!.total_amount).toBe('string'); // pg returns numeric as text
      expect(source[0]!.placed_at).toBeInstanceOf(Date);
      expect((await exportReferenceRows(lake, 'orders', orders)).rows).toBe(30);
      expect((await exportReferenceRows(lake, 'customers', customers)).rows).toBe(12);
    } finally {
      await db.drop();
    }
    const orders = await read('orders', `order_id, customer_id, channel, status, total_amount, strftime(placed_at, '%Y-%m-%dT%H:%M:%S') AS placed_at`);
    const expected = source
      .map((r) => ({
        order_id: r.order_id,
        customer_id: r.customer_id,
        channel: r.channel,
        status: r.status,
        total_amount: Number(r.total_amount),
        placed_at: (r.placed_at as Date).toISOString().slice(0, 19),
      }))
      .sort((a, b) => (String(a.order_id) < String(b.order_id) ? -1 : 1));
    expect(orders).toEqual(expected);
    const customers = await read('customers', '*');
    expect(customers).toHaveLength(12);
    expect(Object.keys(customers[0]!)).toEqual(['customer_id', 'name', 'tier', 'country']); // email is not carried
  });

  it('writes rows from a MariaDB query result ([rows, fields]) the same way', async () => {
    const db = await createMysqlSample({ customers: 5, orders: 8 }, { prefix: 'cat' });
    try {
      const orders = await db.admin.query(`SELECT * FROM \`${db.tables.orders}\``);
      expect((await exportReferenceRows(lake, 'orders', orders as never)).rows).toBe(8);
    } finally {
      await db.drop();
    }
    const orders = await read('orders', 'order_id, total_amount');
    expect(orders).toHaveLength(8);
    expect(orders.every((o) => typeof o.total_amount === 'number')).toBe(true);
  });

  it('maps differently named source columns and refuses rows without the join key or with bad values, naming row and column', async () => {
    await exportReferenceRows(lake, 'customers', [{ id: 'C-1', full_name: 'Ada', tier: 'gold' }], { columns: { customer_id: 'id', name: 'full_name' } });
    expect(await read('customers', '*')).toEqual([{ customer_id: 'C-1', name: 'Ada', tier: 'gold', country: null }]);

    await expect(exportReferenceRows(lake, 'orders', [{ order_id: 'O-1' }, { customer_id: 'C-1' }])).rejects.toThrow(/reference orders row 1: column order_id is the join key/);
    await expect(exportReferenceRows(lake, 'orders', [{ order_id: 'O-1', total_amount: 'twelve' }])).rejects.toThrow(IntegratorError);
    await expect(exportReferenceRows(lake, 'orders', [{ order_id: 'O-1', placed_at: 'yesterday' }])).rejects.toThrow(/column placed_at is not a timestamp/);
    // A failed export leaves the previous table in place.
    expect(await read('customers', 'customer_id')).toEqual([{ customer_id: 'C-1' }]);
  });

  it('accepts a pg result, a mysql2 tuple or plain rows', () => {
    const rows = [{ a: 1 }];
    expect(rowsOf(rows)).toBe(rows);
    expect(rowsOf({ rows })).toBe(rows);
    expect(rowsOf([rows, []])).toBe(rows);
  });
});
