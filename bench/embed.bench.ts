// An app embedding heph (docs/api.md) against the same app without heph, both bundled with esbuild
// from a project where node_modules/heph is the built package (its `exports`), measured side by
// side in this run:
//   cold start of `acme --version`                       ≤ 1.15× the app without heph
//   idle RSS of `acme daemon run`, update.mode = "off"    ≤ +12 MB over the app without heph
//   idle RSS, update.mode = "notify" (file:// static forge) ≤ +18 MB
//   the packed library (`npm pack --dry-run --json` size) ≤ 1.5 MB
// The app is bundled two ways: split into chunks loaded on demand (esbuild `splitting`, as heph
// bundles itself) and as one file (as examples/ do); both are reported. heph's own `--version`
// and `status --json` are in cold-start.bench.ts.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { DIST, header, median, QUICK, row, rssBytes, timeInterleaved } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 5 : 30));
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? (QUICK ? 10 : 30));
/** As in idle.bench.ts: start-up (the health mark, V8's memory reducer) is over by then. */
const SETTLE_S = 12;
const ROOT = process.cwd(); // run.mjs runs every bench from the repository
const node = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'heph-bench-embed-'));
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

// The app's own work, the same with and without heph: an HTTP service on a unix socket.
const SOURCES: Record<string, string> = {
  'work.mjs': `import { createServer } from 'node:http';
export function work(socketPath, signal) {
  const server = createServer((req, res) => res.end('hello\\n'));
  server.listen(socketPath);
  signal?.addEventListener('abort', () => server.close());
}
`,
  'bare.mjs': `import { work } from './work.mjs';
if (process.argv[2] === '--version') process.stdout.write('1.0.0\\n');
else work(process.env.ACME_SOCKET);
`,
  'acme.mjs': `import { defineApp } from 'heph';
import { work } from './work.mjs';
const app = defineApp({
  name: 'acme',
  version: '1.0.0',
  entry: 'dist/acme.mjs',
  forge: { kind: 'static', url: process.env.ACME_INDEX_URL },
  serve: (ctx) => work(process.env.ACME_SOCKET, ctx.signal),
});
await app.main(process.argv.slice(2));
`,
};

/** The project an app author has after `npm i heph`: node_modules/heph is package.json + dist/. */
function project(): string {
  const dir = join(work, 'app');
  const heph = join(dir, 'node_modules', 'heph');
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(heph, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(heph, 'package.json'));
  symlinkSync(DIST, join(heph, 'dist'));
  for (const [file, text] of Object.entries(SOURCES)) writeFileSync(join(dir, 'src', file), text);
  return dir;
}

/** esbuild as an app's build script calls it (examples/: ESM for node, a require shim for heph's CJS deps). */
async function bundle(dir: string, entry: string, outdir: string, splitting: boolean): Promise<string> {
  await esbuild.build({
    absWorkingDir: dir,
    entryPoints: { [entry]: `src/${entry}.mjs` },
    outdir: join(dir, outdir),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __acmeRequire } from 'node:module'; const require = __acmeRequire(import.meta.url);",
    },
  });
  return join(dir, outdir, `${entry}.mjs`);
}

/** RSS of `argv` at rest: after its socket appears, SETTLE_S, then the idle window. */
async function idleRss(
  label: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  socket: string,
): Promise<number> {
  const child = spawn(node, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const end = Date.now() + 15_000;
    while (!existsSync(socket)) {
      if (child.exitCode !== null || Date.now() > end) {
        throw new Error(
          `${label} did not open ${socket} (exit ${child.exitCode}): ${stderr.trim().split('\n').pop()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, (SETTLE_S + IDLE_S) * 1000));
    return rssBytes(child.pid!);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** An ACME_HOME with `mode`, a file:// static index, and a check just done (none falls in the window). */
function appHome(name: string, mode: 'off' | 'notify'): { env: NodeJS.ProcessEnv; socket: string } {
  const home = join(work, name);
  mkdirSync(join(home, 'state'), { recursive: true });
  mkdirSync(join(home, 'forge'), { recursive: true });
  writeFileSync(join(home, 'forge', 'index.json'), JSON.stringify({ releases: [] }));
  writeFileSync(
    join(home, 'config.toml'),
    `[update]\nmode = "${mode}"\ninterval = "6h"\n[restart]\nhealth_grace = "5s"\n`,
  );
  writeFileSync(
    join(home, 'state', 'state.json'),
    JSON.stringify({ v: 1, lastCheckAt: new Date().toISOString(), lastResult: 'ok', consecutiveFailures: 0 }),
  );
  const socket = join(home, 'acme.sock');
  return {
    socket,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ACME_HOME: home,
      ACME_SOCKET: socket,
      ACME_INDEX_URL: `file://${join(home, 'forge', 'index.json')}`,
    },
  };
}

/** `npm pack --dry-run --json` of the package as `npm run build` leaves it (bundle + declarations). */
function packedSize(): { size: number; unpacked: number; files: number } {
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(ROOT, 'templates'), join(pkg, 'templates'), { recursive: true });
  cpSync(DIST, join(pkg, 'dist'), { recursive: true, filter: (src) => !src.startsWith(join(DIST, 'types')) });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const t = spawnSync(node, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist', 'types')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (t.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: pkg,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as Array<{ size: number; unpackedSize: number; entryCount: number }>;
  return { size: info!.size, unpacked: info!.unpackedSize, files: info!.entryCount };
}

try {
  const dir = project();
  const bare = await bundle(dir, 'bare', 'dist-bare', false);
  const split = await bundle(dir, 'acme', 'dist-split', true);
  const single = await bundle(dir, 'acme', 'dist-single', false);
  for (const file of [split, single]) {
    const v = spawnSync(node, [file, '--version'], { encoding: 'utf8' });
    if (v.stdout !== '1.0.0\n')
      throw new Error(`${file} --version said ${JSON.stringify(v.stdout + v.stderr)}`);
  }
  const sizeOf = (f: string) => readFileSync(f).length;

  const [base, bareT, splitT, singleT] = timeInterleaved(
    [
      [node, '-e', '0'],
      [node, bare, '--version'],
      [node, split, '--version'],
      [node, single, '--version'],
    ],
    RUNS,
  );
  const b = median(bareT!);

  const rss: Record<string, number> = {};
  const bareHome = appHome('bare', 'off');
  rss.bare = await idleRss('the app without heph', [bare], bareHome.env, bareHome.socket);
  for (const mode of ['off', 'notify'] as const) {
    const h = appHome(`acme-${mode}`, mode);
    rss[`split-${mode}`] = await idleRss(`acme (${mode})`, [split, 'daemon', 'run'], h.env, h.socket);
    const h2 = appHome(`acme1-${mode}`, mode);
    rss[`single-${mode}`] = await idleRss(
      `acme one file (${mode})`,
      [single, 'daemon', 'run'],
      h2.env,
      h2.socket,
    );
  }
  const pack = packedSize();

  header();
  row('node -e 0', `${median(base!).toFixed(1)} ms`, '', null);
  row('app without heph: --version (baseline)', `${b.toFixed(1)} ms`, '', null);
  const ratio = (label: string, times: number[], target: number) => {
    const m = median(times);
    row(label, `${m.toFixed(1)} ms = ${(m / b).toFixed(2)}×`, `≤ ${target}×`, m / b <= target);
  };
  ratio(`acme --version, split bundle (entry ${sizeOf(split)} B)`, splitT!, 1.15);
  ratio(`acme --version, one file (${mb(sizeOf(single))})`, singleT!, 1.15);
  row(`app without heph: RSS after ${SETTLE_S + IDLE_S} s (baseline)`, mb(rss.bare!), '', null);
  const over = (label: string, key: string, target: number) => {
    const d = rss[key]! - rss.bare!;
    row(label, `${mb(rss[key]!)} (+${mb(d)})`, `≤ +${target} MB`, d <= target * 2 ** 20);
  };
  over('acme daemon run, mode off, split bundle', 'split-off', 12);
  over('acme daemon run, mode off, one file', 'single-off', 12);
  over('acme daemon run, mode notify, split bundle', 'split-notify', 18);
  over('acme daemon run, mode notify, one file', 'single-notify', 18);
  row(
    `npm pack: ${pack.files} files, ${mb(pack.unpacked)} unpacked`,
    mb(pack.size),
    '≤ 1.5 MB',
    pack.size <= 1.5 * 2 ** 20,
  );
  console.log(`(cold start: median of ${RUNS} interleaved rounds; RSS: one process each, in turn)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
