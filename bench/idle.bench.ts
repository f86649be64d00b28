// Daemon idle cost: RSS and CPU of hephd (mode notify, nothing due) over 60 s, against a bare
// node process holding one timer, both measured side by side in this run.
// Targets: RSS ≤ baseline + 20 MB; CPU ≤ 0.05 s over the 60 s. BENCH_IDLE_SECONDS shortens the
// window (--quick: 10 s); the CPU target is then scaled to the window.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, DIST, header, QUICK, row, rssBytes } from './lib.js';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? (QUICK ? 10 : 60));
/** The target is 0.05 CPU seconds per 60 s of idling. */
const CPU_TARGET = (0.05 * SECONDS) / 60;
const home = mkdtempSync(join(tmpdir(), 'heph-bench-idle-'));
// notify mode against a loopback port nobody listens on, with the first check far away: the
// daemon is fully set up (loop, socket, timers) but has nothing to do, which is its normal state.
writeFileSync(
  join(home, 'config.toml'),
  '[update]\nmode = "notify"\ninterval = "6h"\n[forge]\nkind = "github"\nurl = "http://127.0.0.1:9"\nrepo = "o/r"\n',
);
// HEPH_DEV_SCHEDULE_SCALE stretches every scheduler delay (the first check is ≥ 30 s × 1000),
// so no check falls inside the window and what is measured is the daemon at rest.
const env = { PATH: process.env.PATH, HOME: home, HEPH_HOME: home, HEPH_DEV_SCHEDULE_SCALE: '1000' };

const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
const daemon = spawn(process.execPath, [join(DIST, 'hephd.mjs')], {
  env,
  stdio: ['ignore', 'ignore', 'pipe'],
});
let stderr = '';
daemon.stderr.on('data', (b: Buffer) => {
  stderr += b.toString();
});
const exited = new Promise<void>((r) => daemon.once('exit', () => r()));
try {
  /** A daemon that has not opened its socket by then is broken, not slow. */
  const end = Date.now() + 15_000;
  while (!existsSync(join(home, 'run', 'hephd.sock'))) {
    if (daemon.exitCode !== null || Date.now() > end) {
      const why = stderr.trim().split('\n').pop() || 'no output';
      throw new Error(`hephd did not open its socket (exit ${daemon.exitCode}): ${why}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 2_000)); // let start-up settle before the window opens
  const cpu0 = { d: cpuSeconds(daemon.pid!), b: cpuSeconds(baseline.pid!) };
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = { d: cpuSeconds(daemon.pid!) - cpu0.d, b: cpuSeconds(baseline.pid!) - cpu0.b };
  const rss = { d: rssBytes(daemon.pid!), b: rssBytes(baseline.pid!) };
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  header();
  row('baseline RSS (node + one timer)', mb(rss.b), '', null);
  row(
    `hephd RSS after ${SECONDS + 2} s`,
    `${mb(rss.d)} (+${mb(rss.d - rss.b)})`,
    '≤ +20 MB',
    rss.d - rss.b <= 20 * 2 ** 20,
  );
  row(`baseline CPU over ${SECONDS} s`, `${cpu.b.toFixed(2)} s`, '', null);
  row(
    `hephd CPU over ${SECONDS} s idle`,
    `${cpu.d.toFixed(2)} s`,
    `≤ ${CPU_TARGET.toFixed(3)} s`,
    cpu.d <= CPU_TARGET,
  );
} finally {
  baseline.kill('SIGTERM');
  daemon.kill('SIGTERM');
  await exited;
  rmSync(home, { recursive: true, force: true });
}
