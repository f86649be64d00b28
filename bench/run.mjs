#!/usr/bin/env node
// `npm run bench`: bundles each bench/*.bench.ts with esbuild (so benchmarks can use the real
// scheduling code and the test forge) and runs them one after another, each printing its own
// figures as ratios against a baseline it measured in the same run. `npm run bench -- NAME…`
// runs only the named ones (e.g. `cold-start fleet`).
import { readdirSync, mkdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { build } from '../scripts/build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = process.argv.slice(2);
const out = join(root, '.tmp', 'bench');
mkdirSync(out, { recursive: true });

await build({ quiet: true });
const benches = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

await esbuild.build({
  absWorkingDir: root,
  entryPoints: benches.map((b) => `bench/${b}.bench.ts`),
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  logLevel: 'error',
  packages: 'external',
  define: { __HEPH_VERSION__: JSON.stringify('bench') },
});

console.log(
  `machine: ${process.platform} ${process.arch}, node ${process.version}, ${(await import('node:os')).cpus().length} cores, ${((await import('node:os')).totalmem() / 2 ** 30).toFixed(0)} GiB`,
);
let failed = 0;
for (const b of benches) {
  console.log(`\n== ${b}`);
  const r = spawnSync(process.execPath, [join(out, `${b}.bench.mjs`)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    failed++;
    console.log(`(${b} exited ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
