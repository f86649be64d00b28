// The daemon core with a fake checker, installer and clock: notify once, every guard block
// audited once per candidate and reason, pause expiry, install failures, no supervisor,
// container, health and the status document.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { type Config, configSchema } from '../../src/config/schema.js';
import { type CheckOutcome, Daemon, DEGRADED_AFTER_FAILURES } from '../../src/daemon/core.js';
import type { Timers } from '../../src/daemon/loop.js';
import { emptyState, readState, writeState } from '../../src/update/state.js';
import { HephError } from '../../src/errors.js';
import type { InstallResult } from '../../src/install/index.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import type { Supervisor } from '../../src/platform/supervisor.js';
import type { Selection, VersionedRelease } from '../../src/release/types.js';
import { VERSION } from '../../src/version.js';
import { expectSpecStatus } from '../helpers/spec-status.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.parse('2026-01-01T00:00:00Z');

let home: string;
let now: number;
let deps: Deps;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'heph-core-'));
  now = T0;
  deps = createDeps({ env: { HEPH_HOME: home }, clock: { now: () => now } });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** Timers that never fire: the tests drive checks through the API. */
const inertTimers: Timers = { set: () => 0, clear: () => {} };

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

/** A fake forge: offers `offer` (or nothing), honours `paused` as select() does. */
function checker(state: { offer: string | null; fail?: HephError }) {
  return async ({ paused }: { paused: boolean }): Promise<CheckOutcome> => {
    if (state.fail) throw state.fail;
    const r = state.offer ? release(state.offer) : null;
    const selection: Selection = {
      latest: r,
      candidate: r && !paused ? r : null,
      reason: r ? (paused ? 'paused' : null) : 'up-to-date',
      eligibleAt: null,
      blocked: r && paused ? r : null,
      detail: 'test',
    };
    return {
      current: '0.1.0',
      selection,
      list: { requests: 1, bodyBytes: 10, fromCache: false },
      checkedAt: new Date(now).toISOString(),
      report: { candidate: selection.candidate?.version ?? null },
    };
  };
}

/** A checker that never answers (a forge that hangs), counting its calls. */
function hangingChecker(calls: { n: number }) {
  return (): Promise<CheckOutcome> => {
    calls.n++;
    return new Promise<CheckOutcome>(() => {});
  };
}

interface Setup {
  mode?: 'notify' | 'auto';
  supervisor?: Supervisor;
  container?: string | null;
  config?: Record<string, unknown>;
  installFails?: boolean;
  /** Replaces the fake forge's checker. */
  checker?: () => Promise<CheckOutcome>;
  /** Replaces the fake installer (e.g. one that takes its time). */
  install?: (r: VersionedRelease) => Promise<InstallResult>;
}

function setup(o: Setup = {}) {
  const forge: { offer: string | null; fail?: HephError } = { offer: '0.1.1' };
  const installs: string[] = [];
  const restarts: string[] = [];
  const config: Config = configSchema.parse({
    update: { mode: o.mode ?? 'auto' },
    restart: { cooldown: '15m', max_per_window: 2, window: '24h' },
    forge: { repo: 'acme/app' },
    ...o.config,
  });
  const daemon = new Daemon({
    config,
    deps,
    runtime: {
      supervisor: o.supervisor ?? 'systemd',
      container: o.container ?? null,
      socketActivated: false,
      startedAt: T0,
      pid: 4242,
    },
    checker: o.checker ?? checker(forge),
    async install(r): Promise<InstallResult> {
      installs.push(r.version);
      if (o.install) return o.install(r);
      if (o.installFails) throw new HephError('E_VERIFY', 'checksum mismatch');
      return { version: r.version, method: 'bundle', path: null, previous: null, alreadyCurrent: false };
    },
    switchStaged: async () => Promise.reject(new Error('nothing is staged without update.windows')),
    requestRestart: (v) => restarts.push(v),
    timers: inertTimers,
  });
  daemon.start();
  return { daemon, forge, installs, restarts };
}

const events = (name?: string) =>
  readAudit(deps.paths.auditFile)
    .reverse()
    .filter((e) => name === undefined || e.event === name);

describe('notify', () => {
  it('announces a candidate once, not once per poll', async () => {
    const { daemon, installs } = setup({ mode: 'notify' });
    for (let i = 0; i < 3; i++) await daemon.check();
    expect(events('update.available')).toHaveLength(1);
    expect(events('update.checked')).toHaveLength(1);
    expect(installs).toEqual([]);
    expect(readState(deps.paths).announced).toEqual(['0.1.1']);
  });
});

describe('auto and the restart guard', () => {
  it('installs, records the restart, audits update.restarting and asks to restart', async () => {
    const { daemon, installs, restarts } = setup();
    await daemon.check();
    expect(installs).toEqual(['0.1.1']);
    expect(restarts).toEqual(['0.1.1']);
    expect(events('update.restarting')).toMatchObject([
      { version: '0.1.1', supervisor: 'systemd', by: 'auto' },
    ]);
    expect(readState(deps.paths).guard.restarts).toEqual([T0]);
  });

  it('audits each block once per candidate and reason: cooldown, then window-full opens the circuit', async () => {
    const { daemon, forge, installs } = setup();
    await daemon.check(); // restart 1 at T0
    forge.offer = '0.1.2';
    now += M;
    for (let i = 0; i < 3; i++) await daemon.check();
    expect(events('update.blocked')).toMatchObject([{ version: '0.1.2', reason: 'cooldown' }]);
    now += 20 * M;
    await daemon.check(); // restart 2
    expect(installs).toEqual(['0.1.1', '0.1.2']);
    forge.offer = '0.1.3';
    now += 20 * M;
    for (let i = 0; i < 3; i++) await daemon.check();
    const blocked = events('update.blocked').map((e) => [e.version, e.reason]);
    expect(blocked).toEqual([
      ['0.1.2', 'cooldown'],
      ['0.1.3', 'window-full'],
      ['0.1.3', 'circuit-open'],
    ]);
    const st = daemon.status();
    expect(st.guard?.circuit).toBe('open');
    expect(st.guard?.recommendedAction).toContain('heph update resume');

    daemon.resume();
    expect(events('update.resumed')).toHaveLength(1);
    expect(daemon.status().guard?.circuit).toBe('closed');
    await daemon.check();
    expect(installs).toEqual(['0.1.1', '0.1.2', '0.1.3']);
  });

  it('a timed pause blocks (audited once), then ends by itself (audited) and the install goes ahead', async () => {
    const { daemon, installs } = setup();
    daemon.pause(H);
    for (let i = 0; i < 2; i++) await daemon.check();
    expect(events('update.paused')).toHaveLength(1);
    expect(events('update.blocked')).toMatchObject([{ version: '0.1.1', reason: 'paused' }]);
    expect(events('update.available')).toHaveLength(1);
    expect(installs).toEqual([]);
    now += H + 1;
    await daemon.check();
    expect(events('update.resumed')).toMatchObject([{ reason: 'pause-expired' }]);
    expect(installs).toEqual(['0.1.1']);
  });

  it('an install failure is not fatal and not retried until the next check', async () => {
    const { daemon, installs, restarts } = setup({ installFails: true });
    await daemon.check();
    expect(installs).toEqual(['0.1.1']);
    expect(restarts).toEqual([]);
    const st = daemon.status();
    expect(st.update?.lastInstall).toMatchObject({ ok: false, error: 'checksum mismatch' });
    expect(daemon.health().ok).toBe(true);
  });

  it('without a supervisor: installs, stays up, and the status says how to restart', async () => {
    const { daemon, restarts } = setup({ supervisor: 'none' });
    await daemon.check();
    await daemon.check();
    expect(restarts).toEqual([]);
    expect(events('update.restarting')).toEqual([]);
    const st = daemon.status();
    expect(st.pendingRestart).toBe('0.1.1');
    expect(st.guard?.recommendedAction).toContain('without a supervisor');
  });

  it('in a container: notify only, unless install.allow_in_container', async () => {
    const boxed = setup({ container: '/.dockerenv' });
    await boxed.daemon.check();
    expect(boxed.installs).toEqual([]);
    expect(events('update.blocked')).toMatchObject([{ reason: 'container' }]);

    const allowed = setup({ container: '/.dockerenv', config: { install: { allow_in_container: true } } });
    await allowed.daemon.check();
    expect(allowed.installs).toEqual(['0.1.1']);
  });

  it('POST /v1/update/apply {installed} restarts into it when supervised, else leaves it pending', async () => {
    const a = setup({ mode: 'notify' });
    expect(await a.daemon.apply({ installed: '0.2.0' })).toMatchObject({
      restarting: true,
      version: '0.2.0',
    });
    expect(a.restarts).toEqual(['0.2.0']);
    expect(events('update.restarting')).toMatchObject([{ version: '0.2.0', by: 'apply' }]);
    const b = setup({ mode: 'notify', supervisor: 'none' });
    expect(await b.daemon.apply({ installed: '0.3.0' })).toMatchObject({
      restarting: false,
      pendingRestart: '0.3.0',
    });
    await expect(b.daemon.apply({})).rejects.toThrow(/installed/);
  });
});

describe('health and status', () => {
  it(`turns 503-worthy after ${DEGRADED_AFTER_FAILURES} failed checks and recovers`, async () => {
    const { daemon, forge } = setup({ mode: 'notify' });
    forge.fail = new HephError('E_FORGE_UNREACHABLE', 'forge down', { details: { retryAt: T0 + H } });
    for (let i = 0; i < DEGRADED_AFTER_FAILURES; i++) {
      expect(daemon.health().ok).toBe(true);
      await expect(daemon.check()).rejects.toThrow(/forge down/);
    }
    expect(daemon.health()).toMatchObject({ ok: false });
    expect(daemon.health().reason).toContain('forge down');
    forge.fail = undefined;
    await daemon.check();
    expect(daemon.health()).toEqual({ ok: true });
  });

  it('forgets a remembered candidate that is not newer than the version now running', () => {
    // After a self-update the new daemon reads the old one's state.json: its candidate is the
    // version now running, which status must not go on offering.
    writeState(deps.paths, { ...emptyState(), candidate: VERSION, latest: VERSION });
    expect(setup({ mode: 'notify' }).daemon.status().update).toMatchObject({
      candidate: null,
      latest: VERSION,
    });
    writeState(deps.paths, { ...emptyState(), candidate: '999.0.0' });
    expect(setup({ mode: 'notify' }).daemon.status().update).toMatchObject({ candidate: '999.0.0' });
  });

  it('the status document has every documented field (docs/cli.md)', async () => {
    const { daemon } = setup({ mode: 'notify' });
    await daemon.check();
    const st = daemon.status();
    expectSpecStatus(st);
    expect(st).toMatchObject({ running: true, pid: 4242, supervisor: 'systemd', mode: 'notify' });
    expect(st.update).toMatchObject({ candidate: '0.1.1', lastResult: 'ok', consecutiveFailures: 0 });
  });
});

describe('stopping', () => {
  it('abandons a check the forge has not answered: stop returns, the waiting request gets E_DAEMON, no failure is counted', async () => {
    const calls = { n: 0 };
    const { daemon } = setup({ mode: 'notify', checker: hangingChecker(calls) });
    const asked = daemon.check();
    asked.catch(() => {});
    expect(calls.n).toBe(1);
    await daemon.stop();
    await expect(asked).rejects.toMatchObject({
      code: 'E_DAEMON',
      message: expect.stringContaining('stopping'),
    });
    expect(readState(deps.paths).consecutiveFailures).toBe(0);
    expect(daemon.status().update?.checking).toBe(false);
  });

  it('an install in progress holds the stop until it is done', async () => {
    let finish: () => void = () => {};
    const { daemon, installs, restarts } = setup({
      install: (r) =>
        new Promise<InstallResult>((resolve) => {
          finish = () =>
            resolve({
              version: r.version,
              method: 'bundle',
              path: null,
              previous: null,
              alreadyCurrent: false,
            });
        }),
    });
    const asked = daemon.check();
    await waitUntil(() => installs.length === 1);
    let stopped = false;
    const stopping = daemon.stop().then(() => (stopped = true));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await asked;
    expect(daemon.status().update?.lastInstall).toMatchObject({ version: '0.1.1', ok: true });
    expect(restarts).toEqual(['0.1.1']);
  });
});

/** Lets promise callbacks run until `fn` holds (fails after a bounded number of turns). */
async function waitUntil(fn: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (fn()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition never held');
}

describe('the metrics textfile across reloads', () => {
  it('moving or clearing metrics.textfile removes the file this daemon wrote (no duplicate series)', async () => {
    const a = join(home, 'a.prom');
    const b = join(home, 'b.prom');
    const other = join(home, 'other.prom'); // not this daemon's: never touched
    const base = {
      update: { mode: 'notify' },
      forge: { repo: 'acme/app' },
    };
    const { daemon } = setup({ mode: 'notify', config: { metrics: { textfile: a } } });
    expect(existsSync(a)).toBe(true);
    const effects = {
      checker: checker({ offer: null }),
      install: async (): Promise<InstallResult> => Promise.reject(new Error('no install')),
      switchStaged: async () => undefined,
    };
    await daemon.reconfigure({
      config: configSchema.parse({ ...base, metrics: { textfile: b } }),
      ...effects,
    });
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(true);
    writeFileSync(other, '# someone else\n');
    await daemon.reconfigure({
      config: configSchema.parse({ ...base, metrics: { textfile: '' } }),
      ...effects,
    });
    expect(existsSync(b)).toBe(false);
    expect(existsSync(other)).toBe(true);
    await daemon.stop();
  });
});

describe('update_available', () => {
  const held = (latest: string) => async (): Promise<CheckOutcome> => {
    const r = release(latest);
    return {
      current: VERSION,
      selection: {
        latest: r,
        candidate: null,
        reason: 'too-young',
        eligibleAt: null,
        blocked: r,
        detail: 'test',
      },
      list: { requests: 1, bodyBytes: 10, fromCache: false },
      checkedAt: new Date(now).toISOString(),
      report: {},
    };
  };
  const gauge = (d: Daemon, name: string) => new RegExp(`^${name} (\\S+)$`, 'm').exec(d.metrics())?.[1];

  it('is 1 when the newest release on the channel is newer than the running version, even while a policy holds it back', async () => {
    const { daemon } = setup({ mode: 'notify', checker: held('99.0.0') });
    expect(gauge(daemon, 'heph_update_last_check_timestamp_seconds')).toBe('0');
    expect(gauge(daemon, 'heph_update_available')).toBe('0');
    await daemon.check();
    expect(daemon.status().update?.candidate).toBeNull();
    expect(gauge(daemon, 'heph_update_available')).toBe('1');
    await daemon.stop();
  });

  it('is 0 when the newest release is the running version', async () => {
    const { daemon } = setup({ mode: 'notify', checker: held(VERSION) });
    await daemon.check();
    expect(gauge(daemon, 'heph_update_available')).toBe('0');
    await daemon.stop();
  });
});
