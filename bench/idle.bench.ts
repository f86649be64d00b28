// Daemon idle cost: RSS and CPU of hephd (mode notify, nothing due) over 60 s, against a bare
// node process holding one timer, both measured side by side in this run.
// Targets: RSS ≤ baseline + 20 MB; CPU ≤ 0.05 s over the 60 s. BENCH_IDLE_SECONDS shortens the
// window (--quick: 10 s); the CPU target is then scaled to the window.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, DIST, header, QUICK, row, rssBytes } from './lib.js';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? (QUICK ? 10 : 60));
/** Shorter than the 30 s default, so the one-off "marked healthy" step is over before the window. */
const HEALTH_GRACE_S = 5;
/**
 * When the window opens, counted from the socket appearing. V8's memory reducer shrinks the heap
 * ~8–9 s after start-up allocation stops (two "Mark-Compact (reduce)" passes, ~0.05 s CPU, seen
 * with --trace-gc); that and the health mark belong to start-up, which is reported on its own.
 */
const SETTLE_S = 12;
/** The target is 0.05 CPU seconds per 60 s of idling. */
const CPU_TARGET = (0.05 * SECONDS) / 60;
const home = mkdtempSync(join(tmpdir(), 'heph-bench-idle-'));
// notify mode against a loopback port nobody listens on, with the first check far away: the
// daemon is fully set up (loop, socket, timers) but has nothing to do, which is its normal state.
writeFileSync(
  join(home, 'config.toml'),
  `[update]\nmode = "notify"\ninterval = "6h"\n[forge]\nkind = "github"\nurl = "http://127.0.0.1:9"\nrepo = "o/r"\n[restart]\nhealth_grace = "${HEALTH_GRACE_S}s"\n`,
);
// state.json says the last check was a moment ago, so the next one is ~6 h away (startDelay keeps
// the phase): no check falls inside the window and what is measured is the daemon at rest.
mkdirSync(join(home, 'state'), { recursive: true });
writeFileSync(
  join(home, 'state', 'state.json'),
  JSON.stringify({ v: 1, lastCheckAt: new Date().toISOString(), lastResult: 'ok', consecutiveFailures: 0 }),
);
const env = { PATH: process.env.PATH, HOME: home, HEPH_HOME: home };

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
  // Start-up ends when the daemon marks its version healthy (restart.health_grace; it loads the
  // launcher state then); the window opens after that, so it holds the daemon at rest only.
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const cpu0 = { d: cpuSeconds(daemon.pid!), b: cpuSeconds(baseline.pid!) };
  const startup = cpu0.d;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = { d: cpuSeconds(daemon.pid!) - cpu0.d, b: cpuSeconds(baseline.pid!) - cpu0.b };
  const rss = { d: rssBytes(daemon.pid!), b: rssBytes(baseline.pid!) };
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  header();
  row('baseline RSS (node + one timer)', mb(rss.b), '', null);
  row(
    `hephd RSS after ${SECONDS + SETTLE_S} s`,
    `${mb(rss.d)} (+${mb(rss.d - rss.b)})`,
    '≤ +20 MB',
    rss.d - rss.b <= 20 * 2 ** 20,
  );
  row(`hephd start-up CPU (first ${SETTLE_S} s, GC and health mark)`, `${startup.toFixed(2)} s`, '', null);
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
