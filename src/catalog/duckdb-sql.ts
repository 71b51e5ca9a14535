/** A string literal for DuckDB SQL (paths in COPY and read_parquet cannot be bound as parameters). */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** DuckDB types of the raw columns, as the Parquet writer uses them. */
export const DUCKDB_TYPE: Record<string, string> = {
  string: 'VARCHAR',
  bigint: 'BIGINT',
  int: 'INTEGER',
  timestamp: 'TIMESTAMP',
  'map<string,string>': 'MAP(VARCHAR, VARCHAR)',
  'array<string>': 'VARCHAR[]',
};
