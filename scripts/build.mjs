#!/usr/bin/env node
// Bundles src/ into dist/: `heph.mjs` (the CLI), `hephd.mjs` (the daemon entry) and `index.mjs`
// (the library, docs/api.md), plus shared chunks loaded on demand, so that `heph --version` loads
// nothing but its entry. The result runs with no node_modules beside it. The version is baked in at
// build time (release builds pass their own). `--types` also writes the library's declarations
// to dist/types (tsconfig.build.json), as `npm run build` does.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * CommonJS dependencies (commander, semver, …) call require() for Node built-ins; esbuild routes
 * those calls through its `__require` helper, which needs a `require` in scope in its file.
 */
const REQUIRE_SHIM =
  "import { createRequire as __hephCreateRequire } from 'node:module'; const require = __hephCreateRequire(import.meta.url);";

/**
 * esbuild puts the banner in every file; it stays only in files that mention `require` (the
 * helper's chunk, and a few that name it in a comment or string). Every other file then loads
 * without importing node:module and calling createRequire(): `heph --version` loads nothing but
 * its entry, and `heph status` saves ~1 ms a chunk (bench/cold-start).
 */
function dropUnusedShims(outdir) {
  for (const name of readdirSync(outdir, { recursive: true })) {
    if (!String(name).endsWith('.mjs')) continue;
    const file = join(outdir, String(name));
    const text = readFileSync(file, 'utf8');
    const without = text.replace(`${REQUIRE_SHIM}\n`, '');
    if (without !== text && !/\brequire\b/.test(without)) writeFileSync(file, without);
  }
}

/**
 * Whitespace-only minification: an idle hephd keeps every loaded module's source in memory, and
 * the indentation of 2.4 MB of bundled JavaScript was ~2 MB of its resident memory (bench/idle).
 * Names are not minified, so stack traces still name every function; lines are cut at this
 * length, so a trace's line:column points at a short line of the chunk (docs/performance.md).
 */
const LINE_LIMIT = 160;

/** templates/ as { name: text }: baked into the bundle (src/platform/templates.ts). */
function readTemplates() {
  const dir = join(root, 'templates');
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** Build the bundle for `version` into `outdir` (default: the project's dist/). */
export async function build({ version, outdir = join(root, 'dist'), quiet = false } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const v = version ?? pkg.version;
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { heph: 'src/main.ts', hephd: 'src/hephd.ts', index: 'src/index.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    sourcemap: false,
    minifyWhitespace: true,
    lineLimit: LINE_LIMIT,
    legalComments: 'none',
    logLevel: quiet ? 'error' : 'warning',
    define: { __HEPH_VERSION__: JSON.stringify(v), __HEPH_TEMPLATES__: JSON.stringify(readTemplates()) },
    banner: { js: REQUIRE_SHIM },
  });
  dropUnusedShims(outdir);
  return { outdir, version: v };
}

/** The library's type declarations into `outdir`/types, with the TypeScript compiler. */
export function buildTypes(outdir = join(root, 'dist')) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', join(outdir, 'types')],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${r.status})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--version');
  const version = i > 0 ? process.argv[i + 1] : undefined;
  const { outdir, version: v } = await build({ version });
  if (process.argv.includes('--types')) buildTypes(outdir);
  console.log(`built heph ${v} into ${outdir}`);
}
