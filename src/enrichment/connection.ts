import { readFileSync } from 'node:fs';
import { IntegratorError } from '../core/errors.js';
import type { MysqlEnrichmentConfig, PostgresEnrichmentConfig, TlsConfig } from './config.js';

/** Where and how to connect, resolved from a URL and discrete settings; the password included. */
export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  readonly database: string | undefined;
  readonly password: string | undefined;
  readonly tls: { readonly ca?: Buffer; readonly rejectUnauthorized: boolean; readonly servername?: string } | undefined;
  readonly poolSize: number;
  /**
   * PostgreSQL: name the lookup statements (see PgLookupClient). Off where the connections share
   * one session, as PGlite's socket connections do: they would prepare the same name twice.
   */
  readonly preparedStatements?: boolean;
  /** For logs: host:port/database, never a URL and never the password. */
  readonly label: string;
}

const DEFAULT_PORT = { postgres: 5432, mysql: 3306 } as const;

export function readPassword(cfg: { passwordEnv?: string | undefined; passwordFile?: string | undefined }, env: NodeJS.ProcessEnv): string | undefined {
  if (cfg.passwordEnv) {
    const v = env[cfg.passwordEnv];
    if (v === undefined) {
      throw new IntegratorError('CONFIG_INVALID', `enrichment.passwordEnv: environment variable ${cfg.passwordEnv} is not set`);
    }
    return v;
  }
  if (cfg.passwordFile) {
    try {
      return readFileSync(cfg.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new IntegratorError('CONFIG_INVALID', `enrichment.passwordFile: cannot read ${cfg.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return undefined;
}

export function tlsOptions(tls: TlsConfig | undefined): ConnectionTarget['tls'] {
  if (!tls || !tls.enabled) return undefined;
  let ca: Buffer | undefined;
  if (tls.caFile) {
    try {
      ca = readFileSync(tls.caFile);
    } catch (err) {
      throw new IntegratorError('CONFIG_INVALID', `enrichment.tls.caFile: cannot read ${tls.caFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return { ...(ca ? { ca } : {}), rejectUnauthorized: tls.rejectUnauthorized, ...(tls.serverName ? { servername: tls.serverName } : {}) };
}

export function resolveTarget(cfg: PostgresEnrichmentConfig | MysqlEnrichmentConfig, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  let fromUrl: { host?: string; port?: number; user?: string; database?: string } = {};
  if (cfg.url) {
    let u: URL;
    try {
      u = new URL(cfg.url);
    } catch {
      // The message must not echo the URL: it may hold secrets the schema did not recognise.
      throw new IntegratorError('CONFIG_INVALID', 'enrichment.url: not a valid URL');
    }
    fromUrl = {
      ...(u.hostname ? { host: decodeURIComponent(u.hostname.replace(/^\[|\]$/g, '')) } : {}),
      ...(u.port ? { port: Number(u.port) } : {}),
      ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
      ...(u.pathname.length > 1 ? { database: decodeURIComponent(u.pathname.slice(1)) } : {}),
    };
  }
  const host = cfg.host ?? fromUrl.host;
  if (!host) throw new IntegratorError('CONFIG_INVALID', 'enrichment: set url or host');
  const port = cfg.port ?? fromUrl.port ?? DEFAULT_PORT[cfg.type];
  const database = cfg.database ?? fromUrl.database;
  return {
    host,
    port,
    user: cfg.user ?? fromUrl.user,
    database,
    password: readPassword(cfg, env),
    tls: tlsOptions(cfg.tls),
    poolSize: cfg.poolSize,
    ...(cfg.type === 'postgres' ? { preparedStatements: cfg.preparedStatements } : {}),
    label: `${cfg.type} ${host}:${port}/${database ?? ''}`,
  };
}
