import { createPostgresSample } from '../fixtures/sql/databases.js';
import { lookupSuite } from './lookup-suite.js';

const COUNTS = { customers: 500, orders: 2_000 };

lookupSuite('postgres', async () => {
  const sample = await createPostgresSample(COUNTS);
  return {
    ...COUNTS,
    tables: sample.tables,
    exec: async (sql, params) => (await sample.admin.query(sql, params)).rows,
    ref: (t) => `"${sample.schema}"."${t}"`,
    placeholder: (i) => `$${i}`,
    lockCustomers: async () => {
      await sample.admin.query('BEGIN');
      await sample.admin.query(`LOCK TABLE "${sample.schema}"."customers" IN ACCESS EXCLUSIVE MODE`);
      return async () => {
        await sample.admin.query('COMMIT');
      };
    },
    drop: () => sample.drop(),
  };
});
