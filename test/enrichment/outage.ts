import type mysql from 'mysql2/promise';
import { connectMysql, createMysqlSample, createPostgresSample, MYSQL } from '../fixtures/sql/databases.js';
import type { Dialect } from './harness.js';

/**
 * Sample tables plus a dedicated login the test can take away: `down()` terminates that login's
 * connections on the real server (pg_terminate_backend / KILL) and refuses new ones until
 * `up()`, the way a database restart or failover looks to a client; `kill()` only terminates.
 */
export interface OutageDb {
  readonly tables: { customers: string; orders: string };
  readonly user: string;
  kill(): Promise<number>;
  down(): Promise<void>;
  up(): Promise<void>;
  drop(): Promise<void>;
}

export const createOutageDb = (dialect: Dialect, counts: { customers: number; orders: number }): Promise<OutageDb> =>
  dialect === 'postgres' ? postgresOutage(counts) : mysqlOutage(counts);

async function postgresOutage(counts: { customers: number; orders: number }): Promise<OutageDb> {
  const sample = await createPostgresSample(counts);
  const { admin, schema } = sample;
  const user = `${schema}_app`;
  await admin.query(`CREATE ROLE "${user}" LOGIN`);
  await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${user}"`);
  await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO "${user}"`);
  const kill = async () => {
    const res = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [user]);
    return res.rowCount ?? 0;
  };
  return {
    tables: sample.tables,
    user,
    kill,
    async down() {
      // New connections fail with 53300 too_many_connections, like a server not yet accepting.
      await admin.query(`ALTER ROLE "${user}" CONNECTION LIMIT 0`);
      await kill();
    },
    async up() {
      await admin.query(`ALTER ROLE "${user}" CONNECTION LIMIT -1`);
    },
    async drop() {
      await admin.query(`ALTER ROLE "${user}" CONNECTION LIMIT 0`).catch(() => undefined);
      await kill().catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS "${user}"`).catch(() => undefined);
      await sample.drop();
    },
  };
}

async function mysqlOutage(counts: { customers: number; orders: number }): Promise<OutageDb> {
  const sample = await createMysqlSample(counts);
  const { admin } = sample;
  const user = `${sample.tables.customers.replace(/_customers$/, '')}_app`;
  const account = `'${user}'@'%'`;
  await admin.query(`CREATE USER ${account}`);
  for (const t of Object.values(sample.tables)) await admin.query(`GRANT SELECT ON \`${MYSQL.database}\`.\`${t}\` TO ${account}`);
  let blocker: mysql.Connection | undefined;
  const kill = async (except?: number) => {
    const [rows] = await admin.query('SELECT id FROM information_schema.processlist WHERE user = ?', [user]);
    let n = 0;
    for (const { id } of rows as { id: number }[]) {
      if (id === except) continue;
      await admin.query(`KILL ${Number(id)}`).catch(() => undefined);
      n++;
    }
    return n;
  };
  return {
    tables: sample.tables,
    user,
    kill: () => kill(),
    async down() {
      // MariaDB keeps an account's limits while it has connections: set the limit, terminate
      // them all, then hold the one allowed connection so the enricher's reconnects are refused
      // (1226 max_user_connections), like a server out of connections.
      await admin.query(`ALTER USER ${account} WITH MAX_USER_CONNECTIONS 1`);
      for (let attempt = 1; !blocker; attempt++) {
        await kill();
        try {
          blocker = await connectMysql(user);
        } catch (err) {
          if (attempt >= 20) throw err;
        }
      }
    },
    async up() {
      await admin.query(`ALTER USER ${account} WITH MAX_USER_CONNECTIONS 0`);
      await blocker?.end().catch(() => undefined);
      blocker = undefined;
    },
    async drop() {
      await blocker?.end().catch(() => undefined);
      await kill().catch(() => undefined);
      await admin.query(`DROP USER IF EXISTS ${account}`).catch(() => undefined);
      await sample.drop();
    },
  };
}
