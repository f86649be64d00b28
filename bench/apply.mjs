#!/usr/bin/env node
// `node bench/apply.mjs`: how long heph takes from "a candidate was seen" to "the new version is
// smoke-tested and current", for the real bundle made by `npm run release`, served over loopback
// HTTP. Median of BENCH_RUNS runs, next to `node -e 0` measured in the same run, as a table.
//
// The installer (src/install) is bundled with esbuild into a temp module and called in-process,
// exactly as the daemon calls it; each run starts from a fresh store holding the old version.
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { release } from '../scripts/release.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Enough runs for a stable median on a 2-core machine without taking minutes. */
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const OLD = '1.0.0';
const NEW = '1.1.0';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeSpawn(argv) {
  const t0 = performance.now();
  spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  return performance.now() - t0;
}

/** The installer and a minimal HTTP asset client, bundled like the real dist (self-contained). */
const ENTRY = `
import { installRelease, swapCurrent } from './src/install/index.ts';
import { extractRelease } from './src/install/extract.ts';
import { ensureStore } from './src/install/store.ts';
import { configSchema } from './src/config/schema.ts';
import { createDeps } from './src/platform/deps.ts';
import { resolvePaths } from './src/platform/paths.ts';
import { assetClient } from './test/helpers/artifacts.ts';
export { installRelease, swapCurrent, extractRelease, ensureStore, configSchema, createDeps, resolvePaths, assetClient };
`;

const work = mkdtempSync(join(tmpdir(), 'heph-bench-apply-'));
const server = createServer((req, res) => {
  const file = join(work, 'releases', decodeURIComponent(new URL(req.url, 'http://x').pathname));
  try {
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404).end();
  }
});

try {
  for (const v of [OLD, NEW]) await release({ version: v, out: join(work, 'releases', `v${v}`) });
  const lib = join(work, 'installer.mjs');
  await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'bench-apply-entry.ts', loader: 'ts' },
    outfile: lib,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    logLevel: 'error',
    define: { __HEPH_VERSION__: JSON.stringify('0.0.0-bench') },
    banner: {
      js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);",
    },
  });
  const m = await import(pathToFileURL(lib).href);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const tag = `v${NEW}`;
  const candidate = {
    tag,
    version: NEW,
    name: tag,
    notes: '',
    draft: false,
    prerelease: false,
    publishedAt: new Date().toISOString(),
    url: `${url}/${tag}`,
    assets: readdirSync(join(work, 'releases', tag)).map((name) => ({
      name,
      url: `${url}/${tag}/${name}`,
      size: statSync(join(work, 'releases', tag, name)).size,
      sha256: null,
    })),
  };
  const config = m.configSchema.parse({ forge: { kind: 'static', url } });

  const base = [];
  const apply = [];
  for (let i = 0; i <= RUNS; i++) {
    const home = join(work, `home-${i}`);
    const env = { HEPH_HOME: home, PATH: process.env.PATH };
    const deps = m.createDeps({ env, paths: m.resolvePaths(env) });
    m.ensureStore(deps.paths);
    mkdirSync(join(deps.paths.store, OLD));
    await m.extractRelease(join(work, 'releases', `v${OLD}`, `heph-${OLD}.tgz`), join(deps.paths.store, OLD));
    m.swapCurrent(deps.paths, OLD);

    const b = timeSpawn([process.execPath, '-e', '0']);
    const t0 = performance.now();
    const r = await m.installRelease({ config, deps, client: m.assetClient(), release: candidate });
    const t = performance.now() - t0;
    if (r.version !== NEW || r.previous !== OLD) throw new Error(`unexpected result ${JSON.stringify(r)}`);
    if (i > 0) {
      // run 0 warms the file cache and the JIT; it is not counted
      base.push(b);
      apply.push(t);
    }
    rmSync(home, { recursive: true, force: true });
  }

  const size = statSync(join(work, 'releases', tag, `heph-${NEW}.tgz`)).size;
  const row = (a, b, c) => console.log(`${a.padEnd(62)} ${b.padEnd(20)} ${c}`);
  console.log(`apply: ${OLD} -> ${NEW}, bundle ${(size / 1024).toFixed(0)} KiB, ${RUNS} runs (median)`);
  row('measure', 'median', 'ratio to node -e 0');
  row('node -e 0 (baseline, spawn)', `${median(base).toFixed(1)} ms`, '1.0×');
  row(
    'candidate seen -> verified, extracted, smoke-tested, current',
    `${median(apply).toFixed(1)} ms`,
    `${(median(apply) / median(base)).toFixed(1)}×`,
  );
  row(
    '  fastest / slowest run',
    `${Math.min(...apply).toFixed(1)} / ${Math.max(...apply).toFixed(1)} ms`,
    '',
  );
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}
