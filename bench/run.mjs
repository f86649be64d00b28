#!/usr/bin/env node
// `npm run bench`: bundles each bench/*.bench.ts with esbuild (so benchmarks can use the real
// scheduling code and the test forge) and runs them one after another, then bench/apply.mjs,
// each printing its own figures as ratios against a baseline it measured in the same run.
// `npm run bench -- NAME…` runs only the named ones (e.g. `cold-start fleet apply`);
// `--quick` asks each for a short run (fewer repetitions, shorter idle window, smaller fleet).
// HEPH_BENCH_DIST=DIR builds the CLI bundle there instead of dist/ (parallel work in one checkout).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { build } from '../scripts/build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const wanted = args.filter((a) => !a.startsWith('--'));
const quick = flags.includes('--quick');
const out = join(root, '.tmp', 'bench');
const dist = process.env.HEPH_BENCH_DIST ? resolve(process.env.HEPH_BENCH_DIST) : join(root, 'dist');
mkdirSync(out, { recursive: true });

await build({ quiet: true, outdir: dist });
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
  `machine: ${process.platform} ${process.arch}, node ${process.version}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB${quick ? ' (quick mode)' : ''}`,
);
const runs = benches.map((b) => ({ name: b, script: join(out, `${b}.bench.mjs`) }));
// apply.mjs builds its own release artifacts and installer bundle, so it runs as it is.
if (wanted.length === 0 || wanted.includes('apply'))
  runs.push({ name: 'apply', script: join(root, 'bench', 'apply.mjs') });
const env = {
  ...process.env,
  HEPH_BENCH_DIST: dist,
  ...(quick ? { BENCH_QUICK: '1', BENCH_RUNS: process.env.BENCH_RUNS ?? '5' } : {}),
};
let failed = 0;
for (const { name, script } of runs) {
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit', cwd: root, env });
  if (r.status !== 0) {
    failed++;
    console.log(`(${name} exited ${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
