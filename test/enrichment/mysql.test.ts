import type { RowDataPacket } from 'mysql2/promise';
import { createMysqlSample } from '../fixtures/sql/databases.js';
import { lookupSuite } from './lookup-suite.js';

const COUNTS = { customers: 500, orders: 2_000 };

lookupSuite('mysql', async () => {
  const sample = await createMysqlSample(COUNTS);
  return {
    ...COUNTS,
    tables: sample.tables,
    exec: async (sql, params) => {
      const [rows] = await sample.admin.execute<RowDataPacket[]>(sql, params as never[]);
      return Array.isArray(rows) ? rows : [];
    },
    ref: (t) => `\`${sample.tables[t]}\``,
    placeholder: () => '?',
    lockCustomers: async () => {
      await sample.admin.query(`LOCK TABLES \`${sample.tables.customers}\` WRITE`);
      return async () => {
        await sample.admin.query('UNLOCK TABLES');
      };
    },
    drop: () => sample.drop(),
  };
});
