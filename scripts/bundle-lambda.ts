/**
 * Bundles the Lambda handler (src/runtime/lambda.ts) into one ESM file for the Node 22 runtime:
 * dist/lambda/index.mjs, handler "index.handler" (what deploy/cdk/lambda-stack.ts expects).
 *
 *   npx tsx scripts/bundle-lambda.ts [--out dist/lambda] [--no-duckdb] [--duckdb-platform linux-x64] [--no-minify]
 *
 * DuckDB (Parquet encoding) is a native addon and cannot be bundled. It stays external and ships
 * beside the bundle: by default the script copies @duckdb/node-api, @duckdb/node-bindings, the
 * platform binding (linux-x64, the function's x86_64 architecture; ~70 MB of the 250 MB
 * unzipped limit) and detect-libc into <out>/node_modules, where Node's resolution finds them.
 * The same packages can instead come from a layer (/opt/nodejs/node_modules is on the
 * runtime's NODE_PATH): bundle with --no-duckdb and attach the layer. Building on another
 * platform: install the binding first (npm install --no-save --os=linux --cpu=x64
 * @duckdb/node-bindings-linux-x64@<same version as @duckdb/node-bindings>).
 *
 * Imports of @duckdb/* in the bundled code go through a small shim that requires the real
 * package at start-up and re-exports it untouched when it loads. When it does not (a
 * --no-duckdb bundle without a layer), the bundle still starts: module-level code touching
 * DuckDB gets inert stand-ins, and any real use afterwards throws an error saying DuckDB is not
 * available. The handler refuses sink.format parquet at start-up in that case (see
 * src/runtime/lambda-runtime.ts) and runs sink.format ndjson, which never touches DuckDB.
 */
import { cp, mkdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DUCKDB_PACKAGES = /^@duckdb\/node-(api|bindings)$/;

export interface BundleOptions {
  /** Output directory; index.mjs (+ .map) is written there. Default: dist/lambda. */
  readonly outDir?: string;
  /** DuckDB beside the bundle: copied (for deployment), symlinked (local tests) or left out. */
  readonly duckdb?: 'copy' | 'link' | 'none';
  /** The native binding to ship, as npm names its package suffix. Default linux-x64. */
  readonly duckdbPlatform?: string;
  readonly minify?: boolean;
}

export interface BundleResult {
  readonly outfile: string;
  readonly bytes: number;
  /** Packages placed in <outDir>/node_modules. */
  readonly shipped: readonly string[];
}

// Lets CommonJS dependencies inside an ESM bundle call require() and read __dirname. The names
// are aliased so they cannot clash with imports esbuild itself emits.
const BANNER = [
  "import { createRequire as __bundleCreateRequire } from 'node:module';",
  "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
  "import { dirname as __bundleDirname } from 'node:path';",
  'const require = __bundleCreateRequire(import.meta.url);',
  'const __filename = __bundleFileURLToPath(import.meta.url);',
  'const __dirname = __bundleDirname(__filename);',
].join('\n');

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The names a package exports, read from the installed copy at bundle time. */
function exportNames(pkg: string): string[] {
  const mod = createRequire(join(REPO_ROOT, 'package.json'))(pkg) as object;
  return Object.getOwnPropertyNames(mod).filter((n) => IDENTIFIER.test(n) && n !== 'default' && n !== '__esModule');
}

function shimSource(pkg: string, names: readonly string[]): string {
  return `
import { createRequire } from 'node:module';
let mod;
let reason = '';
try {
  mod = createRequire(import.meta.url)(${JSON.stringify(pkg)});
} catch (err) {
  reason = String(err && err.message ? err.message : err).split('\\n')[0];
}
// Module-level code of the bundle runs synchronously before this microtask: until then a
// missing DuckDB yields inert stand-ins, afterwards any use throws.
let loading = true;
queueMicrotask(() => { loading = false; });
function unavailable(path) {
  const fail = () => {
    throw new Error('DuckDB is not available in this deployment: ${pkg} could not be loaded (' + reason + '), so ' + path + ' cannot be used. Ship DuckDB with the function (scripts/bundle-lambda.ts without --no-duckdb, or a layer) or set sink.format: ndjson');
  };
  return new Proxy(function () {}, {
    get(_t, p) {
      if (typeof p === 'symbol' || p === 'then') return undefined;
      return loading ? unavailable(path + '.' + p) : fail();
    },
    apply() { return loading ? unavailable(path + '()') : fail(); },
    construct() { return loading ? unavailable('new ' + path) : fail(); },
  });
}
export default mod ?? unavailable(${JSON.stringify(pkg)});
${names.map((n) => `export const ${n} = mod ? mod.${n} : unavailable(${JSON.stringify(`${pkg}.${n}`)});`).join('\n')}
`;
}

const optionalDuckDb: Plugin = {
  name: 'optional-duckdb',
  setup(b) {
    b.onResolve({ filter: DUCKDB_PACKAGES }, (args) => ({ path: args.path, namespace: 'optional-duckdb' }));
    b.onLoad({ filter: /.*/, namespace: 'optional-duckdb' }, (args) => ({ contents: shimSource(args.path, exportNames(args.path)), loader: 'js', resolveDir: REPO_ROOT }));
  },
};

/** The packages that make DuckDB load: the API, the bindings, the platform binary, their deps. */
function duckDbPackages(platform: string): string[] {
  return ['@duckdb/node-api', '@duckdb/node-bindings', `@duckdb/node-bindings-${platform}`, 'detect-libc'];
}

async function packageDir(name: string): Promise<string> {
  const req = createRequire(join(REPO_ROOT, 'package.json'));
  try {
    return dirname(req.resolve(`${name}/package.json`));
  } catch {
    throw new Error(
      `cannot ship DuckDB: package ${name} is not installed here. For another platform install it first ` +
        `(npm install --no-save --os=linux --cpu=x64 ${name}@<@duckdb/node-bindings' version>), or bundle with --no-duckdb and provide DuckDB in a layer`,
    );
  }
}

async function shipDuckDb(outDir: string, mode: 'copy' | 'link', platform: string): Promise<string[]> {
  const names = duckDbPackages(platform);
  const bindingsVersion = JSON.parse(await readFile(join(await packageDir('@duckdb/node-bindings'), 'package.json'), 'utf8')).version as string;
  const binaryVersion = JSON.parse(await readFile(join(await packageDir(names[2]!), 'package.json'), 'utf8')).version as string;
  if (binaryVersion !== bindingsVersion) throw new Error(`${names[2]} ${binaryVersion} does not match @duckdb/node-bindings ${bindingsVersion}`);
  for (const name of names) {
    const from = await packageDir(name);
    const to = join(outDir, 'node_modules', name);
    await mkdir(dirname(to), { recursive: true });
    await rm(to, { recursive: true, force: true });
    if (mode === 'link') await symlink(from, to, 'dir');
    else await cp(from, to, { recursive: true, dereference: true });
  }
  return names;
}

export async function bundleLambda(opts: BundleOptions = {}): Promise<BundleResult> {
  const outDir = resolve(opts.outDir ?? join(REPO_ROOT, 'dist', 'lambda'));
  const outfile = join(outDir, 'index.mjs');
  await mkdir(outDir, { recursive: true });
  await rm(join(outDir, 'node_modules'), { recursive: true, force: true });
  await build({
    entryPoints: [join(REPO_ROOT, 'src/runtime/lambda.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    banner: { js: BANNER },
    plugins: [optionalDuckDb],
    // pg's optional native driver is only loaded when asked for (never here).
    external: ['pg-native'],
    minify: opts.minify ?? true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const shipped = opts.duckdb === 'none' ? [] : await shipDuckDb(outDir, opts.duckdb ?? 'copy', opts.duckdbPlatform ?? 'linux-x64');
  return { outfile, bytes: (await stat(outfile)).size, shipped };
}

async function main(argv: readonly string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const known = new Set(['--out', '--no-duckdb', '--duckdb-platform', '--no-minify']);
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.has(a) && !(i > 0 && ['--out', '--duckdb-platform'].includes(argv[i - 1]!)));
  if (unknown.length > 0) throw new Error(`unknown option(s) ${unknown.join(', ')}; see the header of scripts/bundle-lambda.ts`);
  const r = await bundleLambda({
    outDir: arg('--out'),
    duckdb: argv.includes('--no-duckdb') ? 'none' : 'copy',
    duckdbPlatform: arg('--duckdb-platform'),
    minify: !argv.includes('--no-minify'),
  });
  console.log(`${r.outfile}: ${(r.bytes / 1024 / 1024).toFixed(1)} MiB${r.shipped.length ? `; node_modules: ${r.shipped.join(', ')}` : '; DuckDB not shipped (sink.format ndjson, or a layer)'}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
