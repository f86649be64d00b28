// Self-update under a real systemd user manager: the hole a client probing /v1/health every
// 20 ms sees (old daemon's last answer → new daemon's first), refused connections, and the time
// from "candidate seen" to "new version serving", with and without the socket unit. Needs root
// and `unshare -m` (TESTING.md); elsewhere it prints why it was skipped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userManagerUnavailable } from '../scripts/lib/user-manager.mjs';
import { runDriver } from '../test/e2e/harness.js';
import { getArtifacts } from '../test/helpers/artifacts.js';
import { row } from './lib.js';

/** RestartSec= in templates/hephd.user.service: the respawn delay systemd adds. */
const RESTART_SEC_MS = 2_000;
/** The target allows half a second on top of RestartSec for node to start and listen. */
const START_ALLOWANCE_MS = 500;
/** The whole scenario takes ~30 s; this only stops a hang. */
const DRIVER_TIMEOUT_MS = 240_000;

interface Update {
  to: string;
  probes: number;
  refused: string[];
  gapMs: number;
  publishedToSeenMs: number;
  seenToServingMs: number;
  unit: Record<string, string>;
}

const missing = userManagerUnavailable();
if (missing) {
  console.log(`self-update: skipped (${missing})`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'heph-bench-selfupdate-'));
try {
  const art = await getArtifacts();
  const r = await runDriver({
    entry: 'bench/self-update-driver.ts',
    work,
    inputVar: 'HEPH_BENCH_INPUT',
    input: { artifacts: art.dir },
    marker: 'BENCH-RESULT',
    timeoutMs: DRIVER_TIMEOUT_MS,
  });
  const result = r.result;
  if (!result?.ok) {
    console.log(`self-update: the scenario failed (exit ${r.exitCode ?? r.signal})`);
    console.log(String(result?.error ?? r.stderr).slice(-2000));
    const diagnosis = result?.diagnosis as { unitStatus?: string } | undefined;
    if (diagnosis?.unitStatus) console.log(diagnosis.unitStatus);
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
  rmSync(work, { recursive: true, force: true });
}
