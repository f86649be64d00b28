// CLI cold start: `heph --version` and `heph status --json` (daemon down and up) against
// `node -e 0`, all measured in this run. Targets: --version ≤ 1.3×, status ≤ 1.6×.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { header, median, row, timeCommand } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const node = process.execPath;
const heph = join(process.cwd(), 'dist', 'heph.mjs');
const hephd = join(process.cwd(), 'dist', 'hephd.mjs');
const home = mkdtempSync(join(tmpdir(), 'heph-bench-cold-'));
const env = { PATH: process.env.PATH, HOME: home, HEPH_HOME: home };

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for the daemon socket');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const base = median(timeCommand([node, '-e', '0'], RUNS, env));
const version = median(timeCommand([node, heph, '--version'], RUNS, env));
const statusDown = median(timeCommand([node, heph, 'status', '--json'], RUNS, env));

const daemon = spawn(node, [hephd], { env, stdio: 'ignore' });
let statusUp = Number.NaN;
try {
  await waitFor(() => existsSync(join(home, 'run', 'hephd.sock')), 15_000);
  statusUp = median(timeCommand([node, heph, 'status', '--json'], RUNS, env));
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(home, { recursive: true, force: true });
}

header();
row('node -e 0 (baseline)', `${base.toFixed(1)} ms`, '', null);
const fig = (label: string, ms: number, target: number) =>
  row(label, `${ms.toFixed(1)} ms = ${(ms / base).toFixed(2)}×`, `≤ ${target}×`, ms / base <= target);
fig('heph --version', version, 1.3);
fig('heph status --json (daemon down)', statusDown, 1.6);
fig('heph status --json (daemon up)', statusUp, 1.6);
console.log(`(median of ${RUNS} runs each, after one warm-up)`);
