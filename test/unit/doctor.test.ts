// heph doctor's checks as a table: each row is a situation (facts) and the verdict and fix a
// person should read. The facts are plain data, so every failure mode is one row.
import { describe, expect, it } from 'vitest';
import { readStamp, stamp } from '../../src/service/render.js';
import {
  type DoctorCheck,
  type DoctorFacts,
  checkConfig,
  checkContainer,
  checkDaemon,
  checkForge,
  checkLinger,
  checkSetAside,
  checkStamp,
  checkStore,
  checkSupervisor,
  checkTokenFiles,
  checkUnit,
  checkUnitPaths,
  doctorExitCode,
  checkConfigApplied,
  checkStopTimeout,
  runChecks,
} from '../../src/service/doctor.js';
import type { InstalledUnit } from '../../src/service/unitfile.js';

const NODE = '/usr/bin/node';
const LAUNCHER = '/home/ada/.local/share/heph/bin/hephd';

const unit: InstalledUnit = {
  manager: 'systemd',
  path: '/home/ada/.config/systemd/user/hephd.service',
  restart: 'always',
  execStart: [NODE, LAUNCHER],
  environment: { PATH: '/usr/bin' },
  environmentFiles: ['/home/ada/.config/heph/hephd.env'],
  runAs: null,
  stamp: { version: '1.0.0', intact: true },
  configDigest: 'c0ffee00c0ffee00',
};

/** A healthy install; each row changes one thing. */
const healthy: DoctorFacts = {
  version: '1.0.0',
  configFile: '/home/ada/.config/heph/config.toml',
  configDigest: 'c0ffee00c0ffee00',
  config: { ok: true, mode: 'auto', allowInContainer: false },
  manager: 'systemd',
  unit,
  unitScope: 'user',
  expectedLauncher: LAUNCHER,
  pathExists: { [NODE]: true, [LAUNCHER]: true },
  forge: { ok: true, kind: 'github', repo: 'acme/heph', releases: 4, fromCache: false, viaProxy: null },
  tokenFiles: [],
  daemon: { running: true, version: '1.0.0', pid: 42, supervisor: 'systemd' },
  store: { ok: true, current: '1.0.0', previous: '0.9.0', complete: { '1.0.0': true, '0.9.0': true } },
  container: null,
  linger: { user: 'ada', enabled: true },
  setAside: [],
};

const f = (over: Partial<DoctorFacts>): DoctorFacts => ({ ...healthy, ...over });
const only = (r: DoctorCheck | DoctorCheck[] | null): DoctorCheck => {
  expect(r).not.toBeNull();
  const list = Array.isArray(r) ? r : [r!];
  expect(list).toHaveLength(1);
  return list[0]!;
};

describe('config-applied after a live reload', () => {
  it('is ok when the running hephd loaded the file as it is now, whatever the unit was rendered with', () => {
    const r = only(
      checkConfigApplied({
        ...healthy,
        configDigest: '0123456789abcdef', // the unit still has c0ffee…: edited, then reloaded
        daemon: {
          running: true,
          version: '1.0.0',
          pid: 42,
          supervisor: 'systemd',
          config: { digest: '0123456789abcdef', loadedAt: '2026-01-01T00:00:00.000Z' },
        },
      }),
    );
    expect(r).toMatchObject({ status: 'ok', summary: expect.stringContaining('loaded 2026-01-01') });
  });

  it("warns when the reload changed an embedding app's [app] table, which serve reads only at start", () => {
    const r = only(
      checkConfigApplied({
        ...healthy,
        configDigest: '0123456789abcdef',
        daemon: {
          running: true,
          version: '1.0.0',
          pid: 42,
          supervisor: 'systemd',
          config: {
            digest: '0123456789abcdef',
            loadedAt: '2026-01-01T00:00:00.000Z',
            restartNeeded: ['app'],
          },
        },
      }),
    );
    expect(r).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('[app] takes effect only at the next start'),
      fix: expect.stringContaining('daemon restart'),
    });
  });
});

describe('unit-stop-timeout', () => {
  const withDrain = (drainMs: number, stopSec: number | null) =>
    checkStopTimeout({
      ...healthy,
      config: { ok: true, mode: 'auto', allowInContainer: false, drainTimeoutMs: drainMs },
      unit: { ...unit, stopTimeoutSec: stopSec },
    });

  it("warns when drain_timeout grew past what the unit's TimeoutStopSec allows (it is written at install)", () => {
    expect(withDrain(30_000, 45)).toBeNull(); // as install writes it: 30 s + 15 s
    expect(withDrain(120_000, 45)).toMatchObject({
      id: 'unit-stop-timeout',
      status: 'warn',
      summary: expect.stringContaining('TimeoutStopSec is 45 s, less than restart.drain_timeout (120 s)'),
      fix: expect.stringContaining('daemon install'),
    });
    expect(withDrain(120_000, Number.POSITIVE_INFINITY)).toBeNull();
    expect(withDrain(120_000, null)).toBeNull(); // not set or not understood: nothing to compare
  });
});

describe('a healthy install', () => {
  it('passes every check and exits 0', () => {
    const results = runChecks(healthy);
    expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(results.map((r) => r.id)).toEqual([
      'config',
      'unit',
      'unit-paths',
      'unit-stamp',
      'config-applied',
      'forge',
      'daemon',
      'store',
      'supervisor',
      'linger',
    ]);
    expect(doctorExitCode(results)).toBe(0);
  });
});

describe('each check', () => {
  it.each<
    [
      string,
      (x: DoctorFacts) => DoctorCheck | DoctorCheck[] | null,
      Partial<DoctorFacts>,
      string,
      RegExp,
      RegExp | null,
    ]
  >([
    [
      'invalid config',
      checkConfig,
      {
        config: {
          ok: false,
          message: 'config.toml: update.mode: expected one of "off"',
          hint: 'fix the value',
        },
      },
      'fail',
      /update\.mode/,
      /fix the value/,
    ],
    [
      'a hand-edited Restart=on-failure',
      checkUnit,
      { unit: { ...unit, restart: 'on-failure' } },
      'fail',
      /Restart=on-failure: self-restart would stop the daemon/,
      /heph daemon install/,
    ],
    [
      'no Restart= at all (systemd says no)',
      checkUnit,
      { unit: { ...unit, restart: 'no' } },
      'fail',
      /Restart=no/,
      /heph daemon install/,
    ],
    [
      'a plist without KeepAlive',
      checkUnit,
      { manager: 'launchd', unit: { ...unit, manager: 'launchd', restart: 'no' } },
      'fail',
      /KeepAlive is no/,
      /heph daemon install/,
    ],
    [
      'no unit installed',
      checkUnit,
      { unit: null },
      'fail',
      /not installed as a systemd service/,
      /heph daemon install/,
    ],
    [
      'no unit, in a container',
      checkUnit,
      { unit: null, container: '/.dockerenv' },
      'warn',
      /not installed/,
      /heph daemon install/,
    ],
    [
      'no service manager',
      checkUnit,
      { manager: null, unit: null },
      'warn',
      /no service manager/,
      /supervisor/,
    ],
    [
      'node path that no longer exists',
      checkUnitPaths,
      { pathExists: { [NODE]: false, [LAUNCHER]: true } },
      'fail',
      /\/usr\/bin\/node, which no longer exists/,
      /heph daemon install/,
    ],
    [
      'a launcher from another HEPH_HOME',
      checkUnitPaths,
      { expectedLauncher: '/srv/heph/data/bin/hephd' },
      'fail',
      /this heph's launcher is \/srv\/heph/,
      /same environment/,
    ],
    [
      'launcher deleted',
      checkUnitPaths,
      { pathExists: { [NODE]: true, [LAUNCHER]: false } },
      'fail',
      /launcher .* is missing/,
      /install/,
    ],
    [
      'unit from an older heph',
      checkStamp,
      { version: '1.2.0' },
      'warn',
      /written by heph 1\.0\.0; this is heph 1\.2\.0/,
      /up to date/,
    ],
    [
      'unit edited by hand',
      checkStamp,
      { unit: { ...unit, stamp: { version: '1.0.0', intact: false } } },
      'warn',
      /edited by hand/,
      /drop-in/,
    ],
    [
      'unit not from heph',
      checkStamp,
      { unit: { ...unit, stamp: null } },
      'warn',
      /not written by heph/,
      /install/,
    ],
    [
      'a config edited since the unit was rendered (an older hephd that does not say what it loaded)',
      checkConfigApplied,
      { configDigest: '0123456789abcdef' },
      'warn',
      /changed since the service was installed/,
      /heph daemon reload/,
    ],
    [
      'a config edited since the running hephd loaded it',
      checkConfigApplied,
      {
        configDigest: '0123456789abcdef',
        daemon: {
          running: true,
          version: '1.0.0',
          pid: 42,
          supervisor: 'systemd',
          config: { digest: 'c0ffee00c0ffee00', loadedAt: '2026-01-01T00:00:00.000Z' },
        },
      },
      'warn',
      /changed since hephd loaded it \(2026-01-01T00:00:00.000Z\)/,
      /heph daemon reload.*no restart/,
    ],
    [
      'forge unreachable while update.mode = "off" (the daemon does not poll)',
      checkForge,
      {
        config: { ok: true, mode: 'off', allowInContainer: false },
        forge: { ok: false, message: 'cannot reach github', hint: 'check the network' },
      },
      'warn',
      /hephd does not poll/,
      /check the network/,
    ],
    [
      'forge refuses the service token',
      checkForge,
      { forge: { ok: false, message: 'github refused the credentials (401)', hint: 'check the token' } },
      'fail',
      /service's settings: github refused/,
      /check the token/,
    ],
    [
      'token file the service cannot read',
      checkTokenFiles,
      {
        tokenFiles: [
          {
            source: 'forge.token_file',
            path: '/etc/heph/token',
            exists: true,
            readable: false,
            reader: 'heph',
            mode: 0o600,
          },
        ],
      },
      'fail',
      /cannot be read by heph, who runs the service/,
      /chown heph \/etc\/heph\/token && chmod 600/,
    ],
    [
      'token file readable by everyone',
      checkTokenFiles,
      {
        tokenFiles: [
          {
            source: 'EnvironmentFile',
            path: '/x/hephd.env',
            exists: true,
            readable: true,
            reader: 'ada',
            mode: 0o644,
          },
        ],
      },
      'warn',
      /readable by others \(mode 0644\)/,
      /chmod 600/,
    ],
    [
      'token file missing',
      checkTokenFiles,
      {
        tokenFiles: [
          {
            source: 'forge.token_file',
            path: '/x/t',
            exists: false,
            readable: false,
            reader: 'ada',
            mode: null,
          },
        ],
      },
      'fail',
      /does not exist/,
      /mode 0600/,
    ],
    [
      'daemon not running with a unit',
      checkDaemon,
      { daemon: { running: false, message: 'hephd is not running (socket /run/user/1/heph/hephd.sock)' } },
      'fail',
      /not running/,
      /heph daemon start/,
    ],
    [
      'daemon not running, nothing installed',
      checkDaemon,
      { unit: null, daemon: { running: false, message: 'hephd is not running' } },
      'warn',
      /not running/,
      /heph daemon install/,
    ],
    [
      'store without current',
      checkStore,
      { store: { ok: true, current: null, previous: null, complete: {} } },
      'fail',
      /no current/,
      /install/,
    ],
    [
      'store with an incomplete previous',
      checkStore,
      {
        store: { ok: true, current: '1.0.0', previous: '0.9.0', complete: { '1.0.0': true, '0.9.0': false } },
      },
      'fail',
      /0\.9\.0 is incomplete/,
      /update apply/,
    ],
    [
      'auto mode without a supervisor',
      checkSupervisor,
      { daemon: { running: true, version: '1.0.0', pid: 7, supervisor: 'none' } },
      'warn',
      /without a supervisor: after a self-update nobody starts it again/,
      /heph daemon install/,
    ],
    [
      'auto mode in a container',
      checkContainer,
      { container: '/.dockerenv' },
      'warn',
      /auto mode only notifies/,
      /allow_in_container/,
    ],
    [
      'no linger',
      checkLinger,
      { linger: { user: 'ada', enabled: false } },
      'warn',
      /logs out/,
      /^loginctl enable-linger ada$/,
    ],
    [
      'a corrupt state file was set aside',
      checkSetAside,
      { setAside: ['/home/ada/.local/state/heph/state.json.corrupt-20261203T074842.123Z'] },
      'warn',
      /^corrupt state set aside and started afresh: state\.json\.corrupt-20261203T074842\.123Z$/,
      /rm \/home\/ada\/\.local\/state\/heph\/state\.json\.corrupt-20261203T074842\.123Z$/,
    ],
    [
      'a corrupt launcher.json: the quarantine list was lost',
      checkSetAside,
      {
        setAside: [
          '/s/launcher.json.corrupt-20261203T074842.123Z',
          '/s/http-cache.json.corrupt-20261203T074843.000Z',
        ],
      },
      'warn',
      /launcher\.json\.corrupt-.*, http-cache\.json\.corrupt-.*quarantined versions: a version that failed before may be tried again/,
      /rm \/s\/launcher\.json\.corrupt-20261203T074842\.123Z \/s\/http-cache/,
    ],
  ])('%s', (_name, check, over, status, summary, fix) => {
    const r = only(check(f(over)));
    expect(r.status).toBe(status);
    expect(r.summary).toMatch(summary);
    if (fix) expect(r.fix).toMatch(fix);
  });

  it('exits 1 when any check fails, 0 with warnings only', () => {
    expect(doctorExitCode(runChecks(f({ unit: { ...unit, restart: 'on-failure' } })))).toBe(1);
    expect(doctorExitCode(runChecks(f({ linger: { user: 'ada', enabled: false } })))).toBe(0);
  });

  it('checks that do not apply say nothing', () => {
    expect(checkContainer(healthy)).toBeNull();
    expect(checkSupervisor(f({ daemon: { running: false, message: 'x' } }))).toBeNull();
    expect(checkUnitPaths(f({ unit: null }))).toBeNull();
    expect(checkForge(f({ forge: null }))).toBeNull();
    expect(checkLinger(f({ linger: null }))).toBeNull();
    expect(checkSetAside(healthy)).toBeNull();
  });
});

describe('the stamp', () => {
  it('round-trips and notices a one-byte edit', () => {
    const text = stamp('# {{STAMP}}\n[Service]\nRestart=always\n', '2.0.0');
    expect(readStamp(text)).toEqual({ version: '2.0.0', intact: true });
    expect(readStamp(text.replace('always', 'alwayz'))!.intact).toBe(false);
  });
});
