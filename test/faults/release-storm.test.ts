// Ten releases published within a minute to a daemon in auto mode under a restarting supervisor
// (a respawn loop standing in for systemd's Restart=always): the restart guard lets through at
// most restart.max_per_window self-restarts, then opens the circuit and says what to do.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStore } from '../../src/install/store.js';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';
import { type Artifacts, getArtifacts, seedStore } from '../helpers/artifacts.js';
import { ROOT } from '../helpers/cli.js';
import { type RunningDaemon, startDaemon, systemdProbeRoot, waitFor } from '../helpers/daemon.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';
import { expectGenuineStore, readAudit } from './store-check.js';

const RELEASES = Array.from({ length: 10 }, (_, i) => `2.${i + 1}.0`);
/** The guard under test: three self-restarts per hour, no cooldown, so the window is what binds. */
const MAX_PER_WINDOW = 3;
/**
 * Gap between two publications: ten of them take ~20 s, still "within a minute". An install
 * (download, verify, smoke test, readiness probe) takes a few seconds here; releases must keep
 * coming while the daemon restarts, or it jumps to the last one before the window fills.
 */
const PUBLISH_GAP_MS = 2_000;
/**
 * HEPH_DEV_SCHEDULE_SCALE (docs/daemon.md): 5m × 0.002 = a check every ~0.6 s, so the daemon sees
 * each release within about a second of its publication, as a slow poller would over hours.
 */
const SCALE = '0.002';
/** systemd's default RestartSec is 100 ms; the respawn loop waits the same. */
const RESTART_SEC_MS = 100;
/**
 * Building the ten releases after a source change takes ~20 s of CPU (each asks npm for its file
 * list, ~1 s: docs/releasing.md), and the rest of the suite runs beside it on 2 cores; the
 * default hook timeout (60 s) is far too tight for that.
 */
const BUILD_TIMEOUT_MS = 600_000;
/** The whole storm must settle by then (it takes seconds; this only stops a hang). */
const SETTLE_MS = 45_000;

let art: Artifacts;
let releasesDir: string;
let home: string;
let paths: Paths;
let forge: TestForge;
let probe: string;

/** Real release artifacts for 2.1.0 … 2.10.0, built once per source tree like getArtifacts(). */
function stormReleases(): string {
  const dir = `${art.dir}-storm`;
  if (existsSync(join(dir, 'done'))) return dir;
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  for (const v of RELEASES) {
    execFileSync(process.execPath, ['scripts/release.mjs', '--version', v, '--out', join(work, v)], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  writeFileSync(join(work, 'done'), 'ok\n');
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true }); // another worker won the race
  }
  return dir;
}

beforeAll(async () => {
  art = await getArtifacts();
  releasesDir = stormReleases();
  home = mkdtempSync(join(tmpdir(), 'heph-storm-'));
  paths = resolvePaths({ HEPH_HOME: home });
  probe = systemdProbeRoot();
  forge = await startForge({ kind: 'github' });
  await seedStore(paths, art, '1.3.0');
  writeFileSync(
    paths.config,
    [
      '[update]',
      'mode = "auto"',
      'interval = "5m"',
      'allow_major = true',
      '[forge]',
      'kind = "github"',
      `url = "${forge.url}"`,
      `repo = "${forge.repo}"`,
      '[restart]',
      'cooldown = "0s"',
      `max_per_window = ${MAX_PER_WINDOW}`,
      'window = "1h"',
      'drain_timeout = "5s"',
      '',
    ].join('\n'),
  );
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await forge?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(probe, { recursive: true, force: true });
});

/** The parts of `heph status --json` (docs/cli.md) this test reads. */
interface StatusDoc {
  supervisor: string;
  update: { latest: string | null };
  guard: { circuit: 'open' | 'closed'; restartsInWindow: number; recommendedAction: string | null };
}

/** The stand-in for Restart=always: starts hephd again whenever it exits 0, until stopped. */
function supervise() {
  const exits: Array<{ code: number | null; signal: string | null }> = [];
  let current: RunningDaemon | null = null;
  let stopped = false;
  let failure: Error | null = null;
  const env = {
    HEPH_DEV_PROBE_ROOT: probe,
    INVOCATION_ID: 'heph-faults-storm',
    HEPH_DEV_SCHEDULE_SCALE: SCALE,
  };
  const loop = (async () => {
    while (!stopped) {
      current = await startDaemon({ home, env });
      const exit = await current.exited;
      exits.push(exit);
      if (stopped) return;
      if (exit.code !== 0) {
        failure = new Error(
          `hephd exited ${exit.code ?? exit.signal}; a supervisor would not respawn it:\n${current.output()}`,
        );
        return;
      }
      await new Promise((r) => setTimeout(r, RESTART_SEC_MS));
    }
  })().catch((e: Error) => {
    failure = e;
  });
  return {
    exits,
    daemon: () => current,
    failure: () => failure,
    async stop() {
      stopped = true;
      const d = current as RunningDaemon | null;
      if (d && d.proc.exitCode === null && d.proc.signalCode === null) await d.stop();
      await loop;
    },
  };
}

describe(`ten releases within a minute, auto mode, max_per_window = ${MAX_PER_WINDOW}`, () => {
  it('restarts stop at the window, the circuit opens and status says what to do', async () => {
    const sup = supervise();
    try {
      await waitFor('the first daemon', () => sup.daemon() !== null, SETTLE_MS);
      for (const v of RELEASES) {
        forge.publishArtifacts(v, join(releasesDir, v));
        await new Promise((r) => setTimeout(r, PUBLISH_GAP_MS));
        expect(sup.failure()).toBeNull();
      }
      // The storm is over when the circuit is open and the daemon has seen the last release.
      // Filled by the wait below (a holder, since TypeScript cannot see writes made in a callback).
      const seen: { status: StatusDoc | null } = { status: null };
      await waitFor(
        'the circuit to open after the last release was seen',
        async () => {
          const d = sup.daemon();
          if (sup.failure()) throw sup.failure();
          if (!d || d.proc.exitCode !== null) return false;
          try {
            seen.status = (await d.call('GET', '/v1/status')).body as StatusDoc;
          } catch {
            return false; // between two daemons
          }
          return seen.status?.guard?.circuit === 'open' && seen.status?.update?.latest === RELEASES.at(-1);
        },
        SETTLE_MS,
      );

      const status = seen.status;
      if (status === null) throw new Error('no status');
      const restarts = readAudit(paths).filter((e) => e.event === 'update.restarting');
      expect(restarts.length).toBeLessThanOrEqual(MAX_PER_WINDOW);
      expect(restarts.length, 'the guard let some restarts through').toBeGreaterThan(0);
      expect(sup.exits.filter((e) => e.code === 0).length).toBe(restarts.length);
      expect(status.guard.restartsInWindow).toBe(restarts.length);
      expect(status.guard.recommendedAction).toEqual(expect.stringMatching(/\S/));
      expect(status.supervisor).toBe('systemd');
      const blocked = readAudit(paths).filter((e) => e.event === 'update.blocked');
      expect(blocked.map((e) => e.reason)).toContain('window-full');

      // What is installed is genuine and current runs; the daemon that is left stays up.
      const store = readStore(paths);
      expect(store.complete[store.current!]).toBe(true);
      await expectGenuineStore(paths, (v) =>
        v === '1.3.0' ? art.tarball(v) : join(releasesDir, v, `heph-${v}.tgz`),
      );
      const last = sup.daemon()!;
      await new Promise((r) => setTimeout(r, 2_000)); // a few more checks with the circuit open
      expect(last.proc.exitCode).toBeNull();
      expect(last.output()).not.toMatch(/unhandled rejection|uncaught exception/i);
      console.log(
        `storm: ${restarts.length} restarts (${restarts.map((e) => e.version).join(', ')}), then circuit open; ` +
          `recommendedAction: ${status.guard.recommendedAction}`,
      );
    } finally {
      await sup.stop();
    }
    expect(sup.failure()).toBeNull();
  });
});
