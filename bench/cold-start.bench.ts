// CLI cold start: `heph --version` and `heph status --json` (daemon down and up) against
// `node -e 0`, all measured in this run. Targets: --version ≤ 1.3×, status ≤ 1.6×.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, header, median, QUICK, row, timeInterleaved } from './lib.js';

/** Enough runs for a stable median of ~50 ms commands on 2 cores; --quick trades noise for time. */
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 5 : 30));
/** A daemon that has not opened its socket by then is broken, not slow. */
const DAEMON_START_MS = 15_000;
const node = process.execPath;
const heph = join(DIST, 'heph.mjs');
const hephd = join(DIST, 'hephd.mjs');
const home = mkdtempSync(join(tmpdir(), 'heph-bench-cold-'));
const env = { PATH: process.env.PATH, HOME: home, HEPH_HOME: home };
const socket = join(home, 'run', 'hephd.sock');

/** Starts hephd (mode off: it serves status and does nothing else); null with the reason printed. */
async function startDaemon() {
  const daemon = spawn(node, [hephd], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((r) => daemon.once('exit', () => r()));
  const end = Date.now() + DAEMON_START_MS;
  while (!existsSync(socket)) {
    if (daemon.exitCode !== null || daemon.signalCode !== null || Date.now() > end) {
      daemon.kill('SIGKILL');
      await exited;
      const why = stderr.trim().split('\n').pop() ?? '';
      console.log(`(daemon up: hephd did not open ${socket}: ${why || 'no output'})`);
      return null;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { daemon, exited };
}

const baseline = [node, '-e', '0'];
// The floor of any ES module program: node's module loader alone, loading an empty .mjs file.
const emptyModule = join(home, 'empty.mjs');
writeFileSync(emptyModule, '');
const status = [node, heph, 'status', '--json'];
const [down0, emptyTimes, versionTimes, downTimes] = timeInterleaved(
  [baseline, [node, emptyModule], [node, heph, '--version'], status],
  RUNS,
  env,
);
const version = median(versionTimes!);
const statusDown = median(downTimes!);

let statusUp = Number.NaN;
let up0: number[] = [];
const up = await startDaemon();
try {
  if (up) {
    const [b, s] = timeInterleaved([baseline, status], RUNS, env);
    up0 = b!;
    statusUp = median(s!);
  }
} finally {
  if (up) {
    up.daemon.kill('SIGTERM');
    await up.exited;
  }
  rmSync(home, { recursive: true, force: true });
}

// Each figure is against the baseline runs interleaved with it (the daemon-up round has its own).
const base = median(down0!);
const baseUp = up0.length ? median(up0) : Number.NaN;
header();
row('node -e 0 (baseline)', `${base.toFixed(1)} ms`, '', null);
const empty = median(emptyTimes!);
row(
  'node empty.mjs (the floor of any ESM entry)',
  `${empty.toFixed(1)} ms = ${(empty / base).toFixed(2)}×`,
  '',
  null,
);
const fig = (label: string, ms: number, b: number, target: number) =>
  Number.isNaN(ms)
    ? row(label, 'not measured', `≤ ${target}×`, null)
    : row(label, `${ms.toFixed(1)} ms = ${(ms / b).toFixed(2)}×`, `≤ ${target}×`, ms / b <= target);
fig('heph --version', version, base, 1.3);
fig('heph status --json (daemon down)', statusDown, base, 1.6);
fig('heph status --json (daemon up)', statusUp, baseUp, 1.6);
console.log(`(median of ${RUNS} interleaved rounds, after one warm-up round)`);
