// Daemon idle cost: RSS and CPU of hephd (mode notify, nothing due) over 60 s, against a bare
// node process holding one timer, both measured side by side in this run.
// Targets: RSS ≤ baseline + 20 MB; CPU ≤ 0.05 s over the 60 s.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, header, row, rssBytes } from './lib.js';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const home = mkdtempSync(join(tmpdir(), 'heph-bench-idle-'));
// notify mode against a loopback port nobody listens on, with the first check far away: the
// daemon is fully set up (loop, socket, timers) but has nothing to do, which is its normal state.
writeFileSync(
  join(home, 'config.toml'),
  '[update]\nmode = "notify"\ninterval = "6h"\n[forge]\nkind = "github"\nurl = "http://127.0.0.1:9"\nrepo = "o/r"\n',
);
const env = { PATH: process.env.PATH, HOME: home, HEPH_HOME: home, HEPH_FIRST_CHECK_DELAY_MS: '3600000' };

const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
const daemon = spawn(process.execPath, [join(process.cwd(), 'dist', 'hephd.mjs')], { env, stdio: 'ignore' });
try {
  const end = Date.now() + 15_000;
  while (!existsSync(join(home, 'run', 'hephd.sock'))) {
    if (Date.now() > end) throw new Error('daemon did not start');
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
  row(`hephd CPU over ${SECONDS} s idle`, `${cpu.d.toFixed(2)} s`, '≤ 0.05 s', cpu.d <= 0.05);
} finally {
  baseline.kill('SIGTERM');
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(home, { recursive: true, force: true });
}
