import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURATED_TABLES, defaultCuratedSqlPath, splitCuratedSql } from '../../src/catalog/curated-sql.js';

const run = promisify(execFile);
const SCRIPT = 'deploy/glue/curated_job.py';

describe('the Glue job script (deploy/glue/curated_job.py)', () => {
  let cache: string;
  // No .pyc next to the sources: compiled files go to a scratch directory.
  const env = () => ({ ...process.env, PYTHONPYCACHEPREFIX: cache, PYTHONDONTWRITEBYTECODE: '1' });

  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'pycache-'));
  });
  afterAll(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it('compiles (python3 -m py_compile)', async () => {
    const { stderr } = await run('python3', ['-m', 'py_compile', SCRIPT], { env: env() });
    expect(stderr).toBe('');
  });

  it('splits deploy/glue/curated.sql into exactly the statements DuckDB runs', async () => {
    // The script imports Spark and Glue only inside main(), so its helpers load without them.
    const code = [
      'import importlib.util, json, sys',
      `spec = importlib.util.spec_from_file_location("curated_job", ${JSON.stringify(SCRIPT)})`,
      'mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)',
      'text = open(sys.argv[1], encoding="utf-8").read()',
      'print(json.dumps([{"table": t, "select": s} for t, s in mod.split_statements(text)]))',
    ].join('\n');
    const sqlPath = defaultCuratedSqlPath();
    const { stdout } = await run('python3', ['-c', code, sqlPath], { env: env() });
    const fromPython = JSON.parse(stdout) as { table: string; select: string }[];
    const fromTs = splitCuratedSql(await readFile(sqlPath, 'utf8'));
    expect(fromPython.map((s) => s.table)).toEqual([...CURATED_TABLES]);
    expect(fromPython).toEqual(fromTs.map((s) => ({ table: s.table, select: s.select })));
  });

  it('reads the days to rebuild from the partition paths it is given, and refuses a path without dt', async () => {
    const code = [
      'import importlib.util, json',
      `spec = importlib.util.spec_from_file_location("curated_job", ${JSON.stringify(SCRIPT)})`,
      'mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)',
      'print(json.dumps(mod.days_of(["dt=2026-11-22/hour=01", "dt=2026-11-21/hour=23/warehouse_id=WH-1", "dt=2026-11-22/hour=02"])))',
      'print(json.dumps(mod.optional_args(["x", "--reference_path", "s3://b/ref/", "--sql_path=s3://b/c.sql"], ["reference_path", "sql_path", "reference_database"])))',
      'try:\n    mod.days_of(["hour=01"])\nexcept ValueError as e:\n    print(json.dumps(str(e)))',
    ].join('\n');
    const { stdout } = await run('python3', ['-c', code], { env: env() });
    const [days, opts, error] = stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(days).toEqual(['2026-11-21', '2026-11-22']);
    expect(opts).toEqual({ reference_path: 's3://b/ref/', sql_path: 's3://b/c.sql' });
    expect(error).toMatch(/has no dt=YYYY-MM-DD/);
  });
});
