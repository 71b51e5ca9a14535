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
    drop: () => sample.drop(),
  };
});
