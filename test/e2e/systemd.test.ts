// heph under a real systemd user manager (TESTING.md): install from real release artifacts,
// self-update N → N+1 with `heph status` callers that never fail, roll back a broken N+2, no
// respawn on exit 78, no refused connection with socket activation, then doctor, the verbs and
// uninstall against the same manager. The scenario needs its own mount namespace, so it runs as
// one driver (systemd-driver.ts, bundled by esbuild) under `unshare -m` and prints its result.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userManagerUnavailable } from '../../scripts/lib/user-manager.mjs';
import { BROKEN_VERSION, getArtifacts } from '../helpers/artifacts.js';
import { noResult, runDriver } from './harness.js';

/** The whole scenario takes 30-50 s; on a loaded 2-core machine it must still end within this. */
const SCENARIO_TIMEOUT_MS = 240_000;
/** N, N+1, the broken "N+2" (any newer version will do) and the update with socket activation. */
const VERSIONS = { n: '1.0.0', n1: '1.1.0', broken: BROKEN_VERSION, n3: '1.2.0' };

const missing = userManagerUnavailable();
const mustRun = process.env.CI === 'true';
if (missing && !mustRun) console.warn(`test/e2e/systemd.test.ts skipped: ${missing}`);

// biome-ignore lint/suspicious/noExplicitAny: the driver's JSON result is checked field by field below
type Result = Record<string, any>;
let result: Result = {};
let work = '';

describe.skipIf(missing !== null && !mustRun)('heph under a real systemd user manager', () => {
  beforeAll(async () => {
    if (missing) throw new Error(`CI=true and this machine cannot run the systemd e2e: ${missing}`);
    const art = await getArtifacts();
    work = mkdtempSync(join(tmpdir(), 'heph-e2e-driver-'));
    const run = await runDriver({
      entry: 'test/e2e/systemd-driver.ts',
      work,
      inputVar: 'HEPH_E2E_INPUT',
      input: { artifacts: art.dir, versions: VERSIONS },
      marker: 'E2E-RESULT',
      timeoutMs: SCENARIO_TIMEOUT_MS,
      onStderr: (c) => process.stderr.write(c), // what it is doing, as it does it
    });
    if (!run.result) throw noResult(run);
    result = run.result as Result;
    if (!result.ok)
      console.error(`driver failed: ${result.error}\n--- manager log ---\n${result.managerLogTail}`);
  }, SCENARIO_TIMEOUT_MS + 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ran the whole scenario', () => {
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
  });

  it('daemon install starts version N as an active unit; a second install changes nothing', () => {
    expect(result.install.exitCode).toBe(0);
    expect(result.install.doc).toMatchObject({ manager: 'systemd', scope: 'user', changed: true });
    expect(result.install.doc.warnings.join('\n')).toContain('loginctl enable-linger'); // no linger here
    expect(result.afterInstall.unit.ActiveState).toBe('active');
    expect(result.afterInstall.version).toBe(VERSIONS.n);
    expect(result.reinstall.exitCode).toBe(0);
    expect(result.reinstall.doc).toMatchObject({ changed: false, commands: [] });
    expect(result.reinstall.human).toContain('nothing changed');
  });

  it('the token reaches the daemon only through the 0600 EnvironmentFile', () => {
    expect(result.token).toEqual({ inUnit: false, envFileMode: '600', envFileHasIt: true });
    expect(result.update.apiRequests).toBeGreaterThan(0);
    expect(result.update.apiWithoutToken).toBe(0); // the forge refuses those: the daemon had the token
  });

  it('updates itself to N+1 within 60 s, restarted by systemd, audited', () => {
    expect(result.update.seconds).toBeLessThan(60);
    expect(Number(result.update.unit.NRestarts)).toBeGreaterThanOrEqual(1);
    expect(result.update.unit.ActiveState).toBe('active');
    expect(result.update.events).toContain(`update.installed@${VERSIONS.n1}`);
    expect(result.update.events).toContain(`update.restarting@${VERSIONS.n1}`);
  });

  it('a client running heph status every 100 ms saw no failure through the update', () => {
    // calls answered by both versions: the loop ran across the restart (a node start costs ~0.3 s
    // on a busy 2-core machine, so the count itself varies)
    expect(result.update.versionsSeen).toEqual(expect.arrayContaining([VERSIONS.n, VERSIONS.n1]));
    expect(result.update.statusCalls).toBeGreaterThanOrEqual(5);
    expect(result.update.statusFailures).toEqual([]);
  });

  it('a broken N+2 is rolled back to N+1 by the launcher and quarantined; the unit ends active', () => {
    expect(result.broken.events).toContain(`update.installed@${VERSIONS.broken}`);
    expect(result.broken.events).toContain(`update.rolled-back@${VERSIONS.n1}`);
    expect(result.broken.quarantined).toEqual([VERSIONS.broken]);
    expect(result.broken.version).toBe(VERSIONS.n1);
    expect(result.broken.unit.ActiveState).toBe('active');
  });

  it('a bad config exits 78 and is not respawned', () => {
    expect(result.badConfig.rightAfter.ExecMainStatus).toBe('78');
    expect(result.badConfig.later.ExecMainStatus).toBe('78');
    expect(result.badConfig.later.NRestarts).toBe(result.badConfig.rightAfter.NRestarts);
    expect(result.badConfig.later.ActiveState).toBe('failed');
  });

  it('with --socket, a client connecting every 20 ms through a self-update is never refused', () => {
    expect(result.socketInstall.exitCode).toBe(0);
    expect(result.socketInstall.doc.files.map((f: { path: string }) => f.path.split('/').pop())).toContain(
      'hephd.socket',
    );
    expect(result.socket.socketUnit.ActiveState).toBe('active');
    expect(result.socket.attempts).toBeGreaterThan(50);
    expect(result.socket.refused).toEqual([]);
    expect(result.socket.unit.ActiveState).toBe('active');
  });

  it('the verbs drive the real manager: status, restart, stop (status exits 3), start', () => {
    const v = result.verbs;
    expect(v.statusBefore).toMatchObject({
      exitCode: 0,
      doc: { manager: 'systemd', installed: true, active: true },
    });
    expect(v.restarted).toMatchObject({
      exitCode: 0,
      doc: { commands: [{ argv: ['systemctl', '--user', 'restart', 'hephd.service'] }] },
    });
    expect(v.answersAfterRestart).toBe(VERSIONS.n3);
    expect(v.stopped.exitCode).toBe(0);
    expect(v.statusStopped).toMatchObject({ exitCode: 3, doc: { active: false } });
    expect(v.started.exitCode).toBe(0);
    expect(v.statusStarted).toMatchObject({ exitCode: 0, doc: { active: true } });
  });

  it('heph doctor finds the service healthy; uninstall stops it and keeps the store', () => {
    const checks = result.doctor.doc.checks as { id: string; status: string; summary: string }[];
    const status = Object.fromEntries(checks.map((c) => [c.id, c.status]));
    expect(status).toMatchObject({
      config: 'ok',
      unit: 'ok',
      'unit-paths': 'ok',
      // written by the heph before the last self-update, which writes the same unit
      'unit-stamp': 'ok',
      forge: 'ok',
      daemon: 'ok',
      store: 'ok',
    });
    expect(checks.find((c) => c.id === 'supervisor')).toMatchObject({
      status: 'ok',
      summary: 'hephd runs under systemd',
    });
    expect(result.doctor.exitCode).toBe(0);
    expect(result.uninstall.exitCode).toBe(0);
    expect(result.uninstall.unitFileLeft).toBe(false);
    expect(result.uninstall.storeKept).toBe(true);
    expect(['inactive', '']).toContain(result.uninstall.unit.ActiveState ?? '');
  });

  it('live reload: config set and systemctl reload apply or refuse a config without a restart', () => {
    const r = result.reload;
    const samePid = (u: Result) => u.MainPID === r.before.MainPID && u.NRestarts === r.before.NRestarts;
    expect(r.set.exitCode).toBe(0);
    expect(r.set.doc.daemon).toMatchObject({ running: true, reloaded: true, changed: ['update.interval'] });
    // ExecReload= sends SIGHUP: systemctl is content, hephd refuses the bad file and keeps running.
    expect(r.systemctlReload.exitCode).toBe(0);
    expect(r.afterBad.ActiveState).toBe('active');
    expect(samePid(r.afterBad)).toBe(true);
    expect(r.viaHephBad.exitCode).toBe(78);
    expect(r.viaHephBad.stderr).toContain('update.mode');
    expect(r.viaHeph.exitCode).toBe(0);
    expect(r.viaHeph.doc).toMatchObject({ reloaded: true, changed: ['update.interval'] });
    expect(r.viaHeph.doc.commands).toEqual([['systemctl', '--user', 'reload', 'hephd.service']]);
    expect(samePid(r.after)).toBe(true);
    expect(r.events.map((e: Result) => `${e.event}:${e.by}`)).toEqual([
      'config.reloaded:socket',
      'config.refused:signal',
      'config.refused:signal',
      'config.reloaded:signal',
    ]);
    expect(r.configApplied).toMatchObject({ status: 'ok' });
  });
});
