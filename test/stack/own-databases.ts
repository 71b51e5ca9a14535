/**
 * Database servers of the tests' own, for what the machine's shared servers cannot be made to
 * do: serve TLS only, or be restarted mid-test.
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createMysqlSample, createPostgresSample, type SampleCounts } from '../fixtures/sql/databases.js';
import { freePort, type Started, startProcess } from './process.js';

const run = promisify(execFile);

/**
 * A private CA and a server certificate it signed for CERT_NAME (and nothing else: not localhost, not
 * 127.0.0.1), plus a second CA that signed nothing: what RDS hands out, in miniature.
 */
export interface TestCerts {
  readonly dir: string;
  readonly name: string;
  readonly caFile: string;
  readonly otherCaFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export const CERT_NAME = 'db.test.internal';

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('These tests need the openssl command to make their certificates (Debian: apt-get install openssl; scripts/setup-machine.sh installs it).');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** The certificates, in `dir`. */
export async function makeCerts(dir: string): Promise<TestCerts> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=inventory-integrator test CA']);
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=some other CA']);
  await openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${CERT_NAME}`]);
  await writeFile(join(dir, 'server.ext'), `subjectAltName=DNS:${CERT_NAME}\n`);
  await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  // PostgreSQL refuses a key file that others can read.
  await chmod(join(dir, 'server.key'), 0o600);
  return { dir, name: CERT_NAME, caFile: join(dir, 'ca.pem'), otherCaFile: join(dir, 'other-ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
}

/** A database server of the test's own, in a directory of its own, on a free loopback port. */
export interface OwnServer {
  readonly dialect: 'postgres' | 'mysql';
  /** The database the tests use: postgres (initdb's) or test. */
  readonly database: string;
  readonly port: number;
  /** Where an admin reaches the server over its Unix socket (no TLS needed there). */
  readonly socket: string;
  /** Stops the server as an operator's restart would: its sessions are ended, not waited for. */
  stop(): Promise<void>;
  /** Starts it again, on the same port and data. */
  start(): Promise<void>;
}

/**
 * With `tls`, the server takes TCP connections over TLS only (a certificate for CERT_NAME signed
 * by the test CA); without, it takes them plain.
 */
export interface OwnServerOptions {
  readonly tls?: TestCerts;
}

const isRoot = () => process.getuid?.() === 0;

/** The directory of PostgreSQL's server binaries (Debian keeps them out of PATH). */
async function postgresBin(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? (await readdir(root)).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error(`These tests start a PostgreSQL of their own and need its server binaries (initdb, postgres) under ${root}/<version>/bin (Debian: apt-get install postgresql).`);
  return join(root, versions[0]!, 'bin');
}

/** Holds a server process between stop() and start(). */
async function restartable(where: Pick<OwnServer, 'dialect' | 'database' | 'port' | 'socket'>, launch: () => Promise<Started>): Promise<OwnServer> {
  let running: Started | undefined = await launch();
  return {
    ...where,
    async stop() {
      await running?.stop();
      running = undefined;
    },
    async start() {
      running ??= await launch();
    },
  };
}

/**
 * A PostgreSQL of the test's own in `dir`, with plain connections on its Unix socket for the
 * admin; with TLS, pg_hba rejects unencrypted TCP. initdb and postgres refuse to run as root: as
 * root they run as the postgres user. Stopped with SIGINT (fast shutdown), as a restart does.
 */
export async function ownPostgres(dir: string, opts: OwnServerOptions = {}): Promise<OwnServer> {
  const bin = await postgresBin();
  const data = join(dir, 'pg');
  const asPostgres = isRoot() ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'] : [];
  if (isRoot()) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('These tests run PostgreSQL as the postgres user when run as root, and there is none (Debian: apt-get install postgresql).');
    });
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    const files = opts.tls ? [opts.tls.keyFile, opts.tls.certFile, opts.tls.caFile] : [];
    for (const f of [dir, ...files]) await chown(f, Number(stdout), Number(gid));
  }
  const cmd = (args: string[]) => (asPostgres.length > 0 ? { command: asPostgres[0]!, args: [...asPostgres.slice(1), ...args] } : { command: args[0]!, args: args.slice(1) });
  const init = cmd([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  await run(init.command, init.args).catch((err: Error & { stderr?: string }) => {
    throw new Error(`initdb failed: ${err.stderr ?? err.message}`);
  });
  const tcp = opts.tls ? 'hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n' : 'host all all 127.0.0.1/32 trust\n';
  await writeFile(join(data, 'pg_hba.conf'), `local all all trust\n${tcp}`);
  const port = await freePort();
  const tls = opts.tls ? ['-c', 'ssl=on', '-c', `ssl_cert_file=${opts.tls.certFile}`, '-c', `ssl_key_file=${opts.tls.keyFile}`] : [];
  const serve = cmd([join(bin, 'postgres'), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', ...tls]);
  return restartable({ dialect: 'postgres', database: 'postgres', port, socket: dir }, () =>
    startProcess(serve.command, serve.args, { ready: (out) => out.includes('ready to accept connections'), name: 'postgres (own)', stopSignal: 'SIGINT' }),
  );
}

/**
 * A MariaDB of the test's own in `dir`, with database `test`; with TLS it refuses connections
 * without it on its TCP port (require_secure_transport); its Unix socket counts as secure.
 */
export async function ownMariadb(dir: string, opts: OwnServerOptions = {}): Promise<OwnServer> {
  const data = join(dir, 'mariadb');
  await mkdir(data);
  const user = isRoot() ? ['--user=root'] : [];
  await run('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db']).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
    if (err.code === 'ENOENT') throw new Error('These tests start a MariaDB of their own and need mariadb-install-db and mariadbd (Debian: apt-get install mariadb-server).');
    throw new Error(`mariadb-install-db failed: ${err.stderr ?? err.message}`);
  });
  const port = await freePort();
  const socket = join(dir, 'mariadb.sock');
  const tls = opts.tls ? [`--ssl-cert=${opts.tls.certFile}`, `--ssl-key=${opts.tls.keyFile}`, `--ssl-ca=${opts.tls.caFile}`, '--require-secure-transport=ON'] : [];
  const args = [
    ...['--no-defaults', `--datadir=${data}`, ...user, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${socket}`, `--pid-file=${join(dir, 'mariadb.pid')}`],
    ...['--skip-log-bin', '--innodb-buffer-pool-size=16M', ...tls],
  ];
  const server = await restartable({ dialect: 'mysql', database: 'test', port, socket }, () =>
    startProcess(existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd', args, { ready: (out) => out.includes('ready for connections'), name: 'mariadbd (own)' }),
  );
  const admin = await mysql.createConnection({ socketPath: socket, user: 'root' });
  await admin.query('CREATE DATABASE test');
  await admin.end();
  return server;
}

/**
 * The sample tables on `server`, made over its Unix socket. The admin session is closed at once:
 * it would not survive a restart, and the tables go with the server's directory.
 */
export async function sampleTablesOn(server: OwnServer, counts: SampleCounts, prefix?: string): Promise<{ customers: string; orders: string }> {
  const opts = prefix === undefined ? {} : { prefix };
  if (server.dialect === 'postgres') {
    const admin = new pg.Client({ host: server.socket, port: server.port, user: 'postgres', database: server.database });
    await admin.connect();
    try {
      return (await createPostgresSample(counts, { ...opts, admin: Object.assign(admin, { user: 'postgres' }) })).tables;
    } finally {
      await admin.end();
    }
  }
  const admin = await mysql.createConnection({ socketPath: server.socket, user: 'root', database: server.database });
  try {
    return (await createMysqlSample(counts, { ...opts, admin })).tables;
  } finally {
    await admin.end();
  }
}
