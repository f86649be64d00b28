// Self-update under a real systemd user manager: the hole a client probing /v1/health every
// 20 ms sees (old daemon's last answer → new daemon's first), refused connections, and the time
// from "candidate seen" to "new version serving", with and without the socket unit. Needs root
// and `unshare -m` (TESTING.md); elsewhere it prints why it was skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { getArtifacts } from '../test/helpers/artifacts.js';
import { row } from './lib.js';

/** RestartSec= in templates/hephd.user.service: the respawn delay systemd adds. */
const RESTART_SEC_MS = 2_000;
/** The target allows half a second on top of RestartSec for node to start and listen. */
const START_ALLOWANCE_MS = 500;
/** The whole scenario takes ~30 s; this only stops a hang. */
const DRIVER_TIMEOUT_MS = 240_000;
const SYSTEMD = '/usr/lib/systemd/systemd';

function missingPrerequisite(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (unshare -m and mount need CAP_SYS_ADMIN)';
  if (!existsSync(SYSTEMD)) return `${SYSTEMD} is missing`;
  const probe = spawnSync('unshare', ['-m', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare -m does not work here: ${(probe.stderr ?? '').trim()}`;
  return null;
}

interface Update {
  to: string;
  probes: number;
  refused: string[];
  gapMs: number;
  publishedToSeenMs: number;
  seenToServingMs: number;
  unit: Record<string, string>;
}

const missing = missingPrerequisite();
if (missing) {
  console.log(`self-update: skipped (${missing})`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'heph-bench-selfupdate-'));
const pidFile = join(work, 'manager.pid');
try {
  const art = await getArtifacts();
  const driver = join(work, 'driver.mjs');
  await esbuild.build({
    absWorkingDir: process.cwd(),
    entryPoints: ['bench/self-update-driver.ts'],
    outfile: driver,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.18',
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  const r = spawnSync('unshare', ['-m', process.execPath, driver], {
    env: { ...process.env, HEPH_BENCH_INPUT: JSON.stringify({ artifacts: art.dir, pidFile }) },
    encoding: 'utf8',
    timeout: DRIVER_TIMEOUT_MS,
    killSignal: 'SIGTERM',
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('BENCH-RESULT '));
  const result = line ? (JSON.parse(line.slice('BENCH-RESULT '.length)) as Record<string, unknown>) : null;
  if (!result?.ok) {
    console.log(`self-update: the scenario failed (exit ${r.status ?? r.signal})`);
    console.log(String(result?.error ?? r.stderr).slice(-2000));
    if (result?.unitStatus) console.log(result.unitStatus);
    if (result?.managerLogTail) console.log(result.managerLogTail);
    process.exitCode = 1;
  } else {
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    row('measure', 'value', 'target', null);
    row('RestartSec (the unit, the baseline for the gap)', s(RESTART_SEC_MS), '', null);
    for (const [label, u, socket] of [
      ['no socket unit', result.plain as Update, false],
      ['socket unit', result.socket as Update, true],
    ] as const) {
      const limit = RESTART_SEC_MS + START_ALLOWANCE_MS;
      row(
        `${label}: refused of ${u.probes} health probes`,
        String(u.refused.length),
        socket ? '0' : '',
        socket ? u.refused.length === 0 : null,
      );
      row(
        `${label}: gap between answers`,
        `${s(u.gapMs)} = RestartSec + ${s(u.gapMs - RESTART_SEC_MS)}`,
        socket ? '' : `≤ ${s(limit)}`,
        socket ? null : u.gapMs <= limit,
      );
      row(`${label}: published → candidate seen`, s(u.publishedToSeenMs), '(poll ~3 s)', null);
      row(`${label}: candidate seen → new serving`, s(u.seenToServingMs), '', null);
      if (u.refused.length) row(`${label}: refusal codes`, [...new Set(u.refused)].join(', '), '', null);
    }
  }
} finally {
  // The driver stops its manager itself; if it was killed first, the pid it left says whom to stop.
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      // Only if that pid is still a systemd (a pid is reused once its process is gone).
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
}
