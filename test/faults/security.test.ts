import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLines } from '../fixtures/events.js';
import { createPostgresSample, POSTGRES, type PostgresSample } from '../fixtures/sql/databases.js';
import { freePort, type Started, startProcess } from '../stack/process.js';
import { COMPACT_EVENTS, serviceConfig } from './harness/configs.js';
import { type HttpFaultProxy, startHttpFaultProxy } from './harness/http-fault-proxy.js';
import { allDelivered, rawRows } from './harness/lake-check.js';
import { FileProducer } from './harness/producers.js';
import { S3Mirror } from './harness/s3-mirror.js';
import { runCli, startService, writeConfig } from './harness/service.js';
import { startTcpProxy, type TcpProxy } from './harness/tcp-proxy.js';

/**
 * Security checks on the service as a user runs it: secrets given in the config or the
 * environment never appear in its output, even on the error paths (S3 refusing writes, the
 * database unreachable, Kafka unreachable) and at debug level; partition values cannot climb out
 * of the table's folder; bad configuration files are refused with exit code 2 and a message
 * naming the key.
 */
const tag = randomBytes(6).toString('hex');
const S3_SECRET = `s3-SECRET-${tag}`;
const PG_PASSWORD = `pg-PASSWORD-${tag}`;
const KAFKA_PASSWORD = `kafka-SASL-${tag}`;

let dir: string;
let s3rver: Started;
let s3Endpoint: string;
let db: PostgresSample;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faults-security-'));
  // s3rver verifies signatures against its own secret; this one accepts any well-formed signature
  // (the key id must still be S3RVER), so the service can sign with a secret of the test's choosing.
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  s3rver = await startProcess(process.execPath, [bin, '-d', join(dir, 's3'), '-a', '127.0.0.1', '-p', '0', '--allow-mismatched-signatures', '--configure-bucket', 'lake'], {
    name: 's3rver',
    ready: (out) => /S3rver listening on [\d.]+:\d+/.test(out),
  });
  s3Endpoint = `http://127.0.0.1:${/S3rver listening on [\d.]+:(\d+)/.exec(s3rver.output())![1]}`;
  db = await createPostgresSample({ customers: 50, orders: 100 }, { prefix: 'faults_sec' });
});
afterAll(async () => {
  await s3rver?.stop();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function expectClean(output: string, secrets: readonly string[]): void {
  for (const s of secrets) {
    const at = output.indexOf(s);
    expect(at, `secret "${s}" found in the output: …${output.slice(Math.max(0, at - 200), at + 100)}…`).toBe(-1);
  }
}

describe('security: secrets never reach the logs', () => {
  it('S3 secret key and PostgreSQL password, through S3 503s and a database outage, at debug level', async () => {
    const proxy: HttpFaultProxy = await startHttpFaultProxy(s3Endpoint);
    const pg: TcpProxy = await startTcpProxy(POSTGRES.host, POSTGRES.port);
    try {
      const input = join(dir, 'events.ndjson');
      const producer = new FileProducer(input, 'events');
      await producer.append([...eventLines(150, { seed: 9, ...COMPACT_EVENTS })]);
      const config = serviceConfig({
        source: { type: 'file', path: input },
        sink: { type: 's3', bucket: 'lake', forcePathStyle: true, aws: { region: 'us-east-1', endpoint: proxy.endpoint, accessKeyId: 'S3RVER', secretAccessKey: S3_SECRET, maxAttempts: 2 } },
        checkpointFile: join(dir, 'cp.json'),
        enrichment: {
          type: 'postgres',
          url: `postgresql://${db.admin.user}@127.0.0.1:${pg.port}/${POSTGRES.database}`,
          passwordEnv: 'FAULTS_PG_PASSWORD',
          policy: 'emit',
          lookups: { customers: { table: db.tables.customers }, orders: { table: db.tables.orders } },
          resilience: { connectTimeoutMs: 500, queryTimeoutMs: 1000, maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, breakerThreshold: 2, breakerResetMs: 200 },
        },
        logging: { level: 'debug' },
      });
      const path = await writeConfig(dir, 'secrets', config);
      const env = { ...process.env, FAULTS_PG_PASSWORD: PG_PASSWORD };
      proxy.mode = '503';
      pg.cut();
      const service = await startService(path, { env, name: 'service (secrets)' });
      await new Promise((r) => setTimeout(r, 2500));
      proxy.mode = 'pass';
      pg.restore();
      const code = await service.exited; // the file ends: the service drains and exits
      const out = service.output();
      expect(code, out.slice(-2000)).toBe(0);
      // The error paths really ran: S3 refused writes, the database could not be reached.
      expect(proxy.faults['503']).toBeGreaterThan(0);
      expect(pg.refused).toBeGreaterThan(0);
      expect(out).toMatch(/SlowDown|503/);
      const mirror = new S3Mirror(new (await import('@aws-sdk/client-s3')).S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }), 'lake', join(dir, 'mirror'));
      await mirror.sync();
      expect(await allDelivered(mirror.dir, producer.eventIds)).toBe(true);
      expectClean(out, [S3_SECRET, PG_PASSWORD, `:${PG_PASSWORD}@`]);

      // config check prints the resolved config with secrets masked.
      const check = await runCli(['config', 'check', '--config', path], env);
      expect(check.code).toBe(0);
      expect(check.stdout).toContain('secretAccessKey');
      expectClean(check.stdout + check.stderr, [S3_SECRET, PG_PASSWORD]);
    } finally {
      await proxy.stop();
      await pg.stop();
    }
  });

  it('Kafka SASL password, with the brokers unreachable', async () => {
    const closed = await freePort(); // nothing listens there
    const path = await writeConfig(
      dir,
      'kafka-secrets',
      serviceConfig({
        source: { type: 'kafka', brokers: [`127.0.0.1:${closed}`], topic: 'inventory', connectionTimeoutMs: 200, sasl: { mechanism: 'plain', username: 'integrator', password: KAFKA_PASSWORD } },
        lakeDir: join(dir, 'kafka-lake'),
        checkpointFile: join(dir, 'kafka-cp.json'),
        logging: { level: 'debug' },
      }),
    );
    const service = await startService(path, { name: 'service (kafka secrets)' });
    const exited = await Promise.race([service.exited, new Promise((r) => setTimeout(r, 15_000)).then(() => service.drain())]);
    const out = service.output();
    expect(exited, out.slice(-2000)).not.toBe(0); // it cannot run without its brokers, and says so
    expect(out).toMatch(/kafka|broker/i);
    expectClean(out, [KAFKA_PASSWORD]);
    const check = await runCli(['config', 'check', '--config', path]);
    expect(check.code).toBe(0);
    expectClean(check.stdout + check.stderr, [KAFKA_PASSWORD]);
  });
});

describe('security: partition values cannot leave the table folder', () => {
  it('warehouseId "../../x", "/", "..", "." and friends land inside the table folder, escaped, and read back unchanged', async () => {
    const run = await mkdtemp(join(dir, 'escape-'));
    const hostile = ['../../x', '/', '..', '.', 'a/../../b', '..\\..\\y', '%2e%2e', 'warehouse_id=evil', '/etc/passwd', '~root'];
    const [template] = [...eventLines(1, { seed: 3, ...COMPACT_EVENTS })];
    const lines = hostile.map((wh) => JSON.stringify({ ...(JSON.parse(template!) as object), warehouseId: wh }));
    const input = join(run, 'hostile.ndjson');
    const producer = new FileProducer(input, 'hostile');
    await producer.append(lines);
    const lake = join(run, 'lake');
    const path = await writeConfig(run, 'escape', serviceConfig({ source: { type: 'file', path: input }, lakeDir: lake, checkpointFile: join(run, 'cp.json'), partitioning: { extraKeys: ['warehouseId'] } }));
    const service = await startService(path, { name: 'service (escape)' });
    expect(await service.exited, service.output().slice(-2000)).toBe(0);

    // Nothing beside what the test made, and every object inside the table folder.
    const all = (await readdir(run, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(run, join(e.parentPath, e.name)).split(sep).join('/'));
    const outside = all.filter((p) => !p.startsWith('lake/') && !['hostile.ndjson', 'escape.yaml', 'cp.json'].includes(p) && !p.startsWith('cp.json'));
    expect(outside).toEqual([]);
    const objects = all.filter((p) => p.startsWith('lake/') && !p.startsWith('lake/.tmp/'));
    expect(objects.length).toBeGreaterThan(0);
    for (const p of objects) {
      expect(p).toMatch(/^lake\/inventory_changes\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/warehouse_id=[A-Za-z0-9_%-]+\/[^/]+\.parquet$/);
    }
    const segments = new Set(objects.map((p) => p.split('/')[4]!));
    expect(segments.size).toBe(hostile.length);
    for (const s of segments) expect(s).not.toMatch(/\.|\//);
    const rows = await rawRows(lake, ['warehouse_id']);
    expect(rows.map((r) => r.warehouse_id).sort()).toEqual([...hostile].sort());
  });
});

describe('security: bad configuration files are refused', () => {
  const base = 'source: {type: file, path: in.ndjson}\nsink: {type: file, dir: lake}\n';
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown top-level key', `${base}sourcee: {}\n`, /unknown key "sourcee"/],
    ['an unknown nested key', 'source: {type: file, path: in.ndjson}\nsink: {type: file, dir: lake, bukcet: x}\n', /unknown key "sink\.bukcet"/],
    ['a string for a number', `${base}batching: {maxRecords: lots}\n`, /key "batching\.maxRecords": value "lots"/],
    ['a string for a port', `${base}service: {port: eighty}\n`, /key "service\.port"/],
    ['a value outside its enum', 'source: {type: file, path: in.ndjson, startAt: sometime}\nsink: {type: file, dir: lake}\n', /key "source\.startAt"/],
    ['a missing required key', 'source: {type: file}\nsink: {type: file, dir: lake}\n', /key "source\.path"/],
    ['an unknown source type', 'source: {type: kinesys}\nsink: {type: file, dir: lake}\n', /key "source\.type"/],
    ['a list for a mapping', `${base}batching: [1, 2]\n`, /key "batching"/],
    ['text that is not YAML', 'source: [unclosed\n', /not valid YAML/],
  ];
  it.each(cases)('config check refuses %s with exit code 2 and names it', async (_label, yaml, message) => {
    const path = join(dir, `bad-${randomBytes(3).toString('hex')}.yaml`);
    await writeFile(path, yaml);
    const r = await runCli(['config', 'check', '--config', path]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a password inside enrichment.url is refused without being echoed', async () => {
    const path = join(dir, 'url-password.yaml');
    await writeFile(path, `${base}enrichment: {type: postgres, url: "postgresql://app:${PG_PASSWORD}@db.internal:5432/shop"}\n`);
    const r = await runCli(['config', 'check', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key "enrichment\.url".*must not carry a password/);
    expectClean(r.stdout + r.stderr, [PG_PASSWORD]);
  });

  it('run refuses a bad file the same way, before starting anything', async () => {
    const path = join(dir, 'bad-run.yaml');
    await writeFile(path, `${base}batching: {maxAgeMs: soon}\n`);
    const r = await runCli(['run', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key "batching\.maxAgeMs"/);
    expect(r.stderr).not.toMatch(/listening/);
  });
});
