// Maintenance windows in the daemon core: an update found outside every window is installed into
// the store without switching (update.deferred, status pendingRestart and the window's start),
// then switched to and restarted into when the window opens; `apply` ignores windows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { configSchema } from '../../src/config/schema.js';
import { type CheckOutcome, Daemon } from '../../src/daemon/core.js';
import type { Timers } from '../../src/daemon/loop.js';
import { HephError } from '../../src/errors.js';
import type { InstallResult } from '../../src/install/index.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import type { VersionedRelease } from '../../src/release/types.js';

const M = 60_000;
const H = 60 * M;
// 2026-01-01 is a Thursday; Berlin is UTC+1 in winter.
const T0 = Date.parse('2026-01-01T00:00:00Z');

let home: string;
let now: number;
let deps: Deps;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'heph-windows-'));
  now = T0;
  deps = createDeps({ env: { HEPH_HOME: home }, clock: { now: () => now } });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** Timers the test fires by hand: each armed one is kept with its due time. */
function manualTimers() {
  const armed = new Map<number, { fn: () => void; due: number }>();
  let id = 0;
  const timers: Timers = {
    set: (fn, ms) => {
      armed.set(++id, { fn, due: now + ms });
      return id;
    },
    clear: (h) => armed.delete(h as number),
  };
  /** Moves the clock to `t` and fires what is due by then (not the poller's: it never checks). */
  const advance = async (t: number) => {
    now = t;
    for (const [k, v] of [...armed]) {
      if (v.due <= t) {
        armed.delete(k);
        v.fn();
      }
    }
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
  };
  return { timers, armed, advance };
}

function release(version: string): VersionedRelease {
  return {
    tag: `v${version}`,
    version,
    name: `v${version}`,
    notes: '',
    draft: false,
    prerelease: false,
    publishedAt: new Date(T0 - H).toISOString(),
    url: `https://forge.example/r/v${version}`,
    assets: [],
  };
}

/** `installTakes`: how far the clock moves during an install (download, verify, readiness probe). */
function setup(windows: string[], offer = '0.1.1', installTakes = 0) {
  const offered: { version: string; switchError?: Error } = { version: offer };
  const calls: string[] = [];
  const { timers, armed, advance } = manualTimers();
  const raw = {
    update: { mode: 'auto', windows },
    restart: { cooldown: '15m', max_per_window: 3, window: '24h' },
    forge: { repo: 'acme/app' },
  };
  const config = configSchema.parse(raw);
  const effects = {
    checker: async (): Promise<CheckOutcome> => {
      const r = release(offered.version);
      return {
        current: '0.1.0',
        selection: { latest: r, candidate: r, reason: null, eligibleAt: null, blocked: null, detail: '' },
        list: { requests: 1, bodyBytes: 1, fromCache: false },
        checkedAt: new Date(now).toISOString(),
        report: {},
      };
    },
    async install(r: VersionedRelease, opts?: { stage?: boolean }): Promise<InstallResult> {
      calls.push(`install ${r.version}${opts?.stage ? ' staged' : ''}`);
      now += installTakes;
      return {
        version: r.version,
        method: 'bundle',
        path: null,
        previous: null,
        alreadyCurrent: false,
        staged: opts?.stage === true,
      };
    },
    switchStaged: async (v: string) => {
      if (offered.switchError) throw offered.switchError;
      calls.push(`switch ${v}`);
    },
  };
  const daemon = new Daemon({
    config,
    deps,
    runtime: { supervisor: 'systemd', container: null, socketActivated: false, startedAt: T0, pid: 7 },
    ...effects,
    requestRestart: (v) => calls.push(`restart ${v}`),
    timers,
  });
  daemon.start();
  return { daemon, calls, armed, advance, raw, offered, effects };
}

const events = (name: string) => readAudit(deps.paths.auditFile).filter((e) => e.event === name);

describe('auto mode with maintenance windows', () => {
  it('outside a window: installs into the store, defers, and switches when the window opens', async () => {
    const { daemon, calls, advance } = setup(['* 02:00-04:00 Europe/Berlin']);
    await daemon.check();
    expect(calls).toEqual(['install 0.1.1 staged']);
    expect(events('update.deferred')).toMatchObject([
      {
        version: '0.1.1',
        staged: true,
        windowStart: '2026-01-01T01:00:00.000Z',
        windowEnd: '2026-01-01T03:00:00.000Z',
      },
    ]);
    expect(events('update.restarting')).toHaveLength(0);
    const st = daemon.status();
    expect(st.pendingRestart).toBe('0.1.1');
    expect(st.deferred).toMatchObject({
      version: '0.1.1',
      staged: true,
      windowStart: '2026-01-01T01:00:00.000Z',
    });
    expect(st.restartWindow).toMatchObject({ open: false, start: '2026-01-01T01:00:00.000Z' });
    expect(st.guard?.recommendedAction).toContain('heph update apply --version 0.1.1');

    // Another check before the window: nothing is installed again.
    await daemon.check();
    expect(calls).toEqual(['install 0.1.1 staged']);

    await advance(T0 + 59 * M);
    expect(calls).toHaveLength(1);
    await advance(T0 + H);
    expect(calls).toEqual(['install 0.1.1 staged', 'switch 0.1.1', 'restart 0.1.1']);
    expect(events('update.restarting')).toMatchObject([{ version: '0.1.1', by: 'auto' }]);
    expect(daemon.status().deferred).toBeNull();
    await daemon.stop();
  });

  it('inside a window: installs into the store, switches and restarts at once', async () => {
    now = T0 + 90 * M; // 02:30 in Berlin
    const { daemon, calls } = setup(['* 02:00-04:00 Europe/Berlin']);
    await daemon.check();
    expect(calls).toEqual(['install 0.1.1 staged', 'switch 0.1.1', 'restart 0.1.1']);
    expect(events('update.deferred')).toHaveLength(0);
    expect(daemon.status().restartWindow).toMatchObject({ open: true });
    await daemon.stop();
  });

  it('a staged version that cannot be switched to (the install lock held) is audited as update.failed, no restart', async () => {
    now = T0 + 90 * M; // 02:30 in Berlin
    const { daemon, calls, offered } = setup(['* 02:00-04:00 Europe/Berlin']);
    offered.switchError = new HephError('E_LOCKED', 'another install holds the lock');
    await daemon.check();
    expect(calls).toEqual(['install 0.1.1 staged']);
    expect(events('update.failed')).toMatchObject([
      {
        version: '0.1.1',
        stage: 'switch',
        code: 'E_LOCKED',
        error: expect.stringContaining('holds the lock'),
      },
    ]);
    expect(events('update.restarting')).toHaveLength(0);
    await daemon.stop();
  });

  it('a window that closes during the install: the restart waits for the next window', async () => {
    now = T0 + 179 * M; // 03:59 in Berlin: open when the check and the install begin
    const { daemon, calls, advance } = setup(['* 02:00-04:00 Europe/Berlin'], '0.1.1', 6 * M);
    expect(daemon.status().restartWindow).toMatchObject({ open: true });
    await daemon.check(); // the install (and its readiness probe) ends at 04:05
    expect(calls).toEqual(['install 0.1.1 staged']);
    expect(events('update.restarting')).toHaveLength(0);
    expect(events('update.deferred')).toMatchObject([
      { version: '0.1.1', staged: true, windowStart: '2026-01-02T01:00:00.000Z' },
    ]);
    expect(daemon.status().deferred).toMatchObject({ version: '0.1.1', staged: true });
    await advance(Date.parse('2026-01-02T01:00:00Z'));
    expect(calls).toEqual(['install 0.1.1 staged', 'switch 0.1.1', 'restart 0.1.1']);
    await daemon.stop();
  });

  it('a reload that changes the release source forgets the old offer, checks again soon and drops a deferred update it no longer offers', async () => {
    const { daemon, calls, raw, offered, effects } = setup(['* 02:00-04:00 Europe/Berlin']);
    await daemon.check();
    expect(daemon.status()).toMatchObject({
      update: { latest: '0.1.1', candidate: '0.1.1' },
      deferred: { version: '0.1.1' },
    });
    const lastCheck = now;
    now += 10 * M;
    offered.version = '0.2.0'; // what the other repository offers
    const next = configSchema.parse({ ...raw, forge: { repo: 'acme/other' } });
    await daemon.reconfigure({ config: next, ...effects });
    const st = daemon.status();
    expect(st.update).toMatchObject({ latest: null, candidate: null });
    // Soon (within a minute), not an interval (6 h) after the last check.
    const due = Date.parse(st.update?.nextCheckAt ?? '');
    expect(due).toBeGreaterThan(now);
    expect(due).toBeLessThanOrEqual(now + M);
    expect(due).toBeLessThan(lastCheck + 5 * H);

    await daemon.check(); // the check the reload brought forward
    expect(calls).toEqual(['install 0.1.1 staged', 'install 0.2.0 staged']);
    expect(daemon.status()).toMatchObject({
      update: { latest: '0.2.0', candidate: '0.2.0' },
      deferred: { version: '0.2.0' },
    });
    await daemon.stop();
  });

  it('a deferred update survives a restart of the daemon (state.json) and still waits', async () => {
    const first = setup(['* 02:00-04:00 Europe/Berlin']);
    await first.daemon.check();
    await first.daemon.stop();
    const second = setup(['* 02:00-04:00 Europe/Berlin']);
    expect(second.daemon.status().deferred?.version).toBe('0.1.1');
    await second.advance(T0 + H);
    expect(second.calls).toEqual(['switch 0.1.1', 'restart 0.1.1']);
    await second.daemon.stop();
  });

  it('POST /v1/update/apply ignores windows: a person asked', async () => {
    const { daemon, calls } = setup(['Sat 02:00-03:00 UTC']);
    const r = (await daemon.apply({ installed: '0.1.1' })) as { restarting: boolean };
    expect(r.restarting).toBe(true);
    expect(calls).toEqual(['restart 0.1.1']);
    await daemon.stop();
  });

  it('with no windows, restarts at once as before', async () => {
    const { daemon, calls } = setup([]);
    await daemon.check();
    expect(calls).toEqual(['install 0.1.1', 'restart 0.1.1']);
    expect(daemon.status().restartWindow).toBeNull();
    await daemon.stop();
  });
});
