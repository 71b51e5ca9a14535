import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, maskSecrets } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const minimal = `
source: { type: file, path: events.ndjson }
sink: { type: file, dir: lake }
`;

describe('config loading', () => {
  it('fills defaults for a minimal file', () => {
    const c = loadConfig(file('min.yaml', minimal), {});
    expect(c.sink).toMatchObject({ type: 'file', format: 'parquet', compression: 'zstd', table: 'inventory_changes' });
    expect(c.batching.maxRecords).toBeGreaterThan(0);
    expect(c.enrichment.type).toBe('none');
  });

  it('applies environment overrides with their YAML types', () => {
    const c = loadConfig(file('env.yaml', minimal), { INTEGRATOR__BATCHING__MAX_RECORDS: '5000', INTEGRATOR__SINK__FORMAT: 'ndjson' });
    expect(c.batching.maxRecords).toBe(5000);
    expect(c.sink.format).toBe('ndjson');
  });

  it('names an unknown key', () => {
    expect(() => loadConfig(file('unknown.yaml', `${minimal}\nbatching: { maxRecrods: 10 }\n`), {})).toThrow(/unknown key "batching.maxRecrods"/);
  });

  it('names the key, the value and what is allowed for a bad value', () => {
    try {
      loadConfig(file('bad.yaml', `${minimal}\nbatching: { maxRecords: 0 }\nlogging: { level: loud }\n`), {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/key "batching.maxRecords": value 0 is not allowed: .*>=1/);
      expect(msg).toMatch(/key "logging.level": value "loud" is not allowed: .*"info"/);
    }
  });

  it('rejects an unknown source type by listing the known ones', () => {
    expect(() => loadConfig(file('type.yaml', 'source: { type: kinesiss }\nsink: { type: file, dir: x }\n'), {})).toThrow(/source.type.*"kinesiss"/s);
  });

  it('explains an unreadable or non-YAML file', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(/cannot read config file/);
    expect(() => loadConfig(file('broken.yaml', 'source: [unclosed'), {})).toThrow(/not valid YAML/);
  });

  it('masks secrets and URL passwords', () => {
    const masked = maskSecrets({ enrichment: { url: 'postgres://app:s3cret@db:5432/shop', passwordEnv: 'PGPASSWORD' }, aws: { secretAccessKey: 'abc' } });
    expect(JSON.stringify(masked)).not.toMatch(/s3cret|abc/);
    expect(masked).toMatchObject({ enrichment: { url: 'postgres://app:***@db:5432/shop', passwordEnv: 'PGPASSWORD' } });
  });
});
