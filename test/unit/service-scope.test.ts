// The pure halves of issue 10's service fixes, as tables: --system hints, the update notice's
// policy, the start verdict after install/start/restart, the access a system service's user is
// given, the unit fingerprint doctor compares instead of the version, the config-access check,
// and what a shell that cannot reach its user manager is told.
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEPH_NAMES } from '../../src/app/identity.js';
import { serviceNames } from '../../src/app/service-names.js';
import { setConfigValue } from '../../src/config/edit.js';
import { withScope } from '../../src/cli/scope-hints.js';
import { NOTICE_INTERVAL_MS, noticeFor } from '../../src/cli/update-notice.js';
import { planAccess, type FileFacts } from '../../src/service/access.js';
import type { Account } from '../../src/service/accounts.js';
import { checkConfigAccess, checkStamp, type DoctorFacts } from '../../src/service/doctor.js';
import { unreachable } from '../../src/service/reach.js';
import {
  readStamp,
  renderFingerprint,
  renderSocketUnit,
  renderSystemdService,
} from '../../src/service/render.js';
import { awaitStart, judgeStart, type SettleEffects } from '../../src/service/settle.js';
import type { ServiceSpec } from '../../src/service/spec.js';
import type { ServiceState } from '../../src/service/types.js';

describe('hints printed for a system install carry --system', () => {
  const sys = { system: true, runAs: 'heph' };
  it.each([
    ['run `heph daemon start`', 'run `heph daemon start --system`'],
    ['run `heph daemon install`', 'run `heph daemon install --system --user heph`'],
    ['`heph update apply --version 1.2.0`', '`heph update apply --version 1.2.0 --system`'],
    ['already `heph doctor --system`', 'already `heph doctor --system`'],
    ['`heph daemon run` as is', '`heph daemon run` as is'],
    [
      'two: `heph update history`, `heph update resume`',
      'two: `heph update history --system`, `heph update resume --system`',
    ],
    ['plain heph status (not quoted) stays', 'plain heph status (not quoted) stays'],
  ])('%s', (text, want) => {
    expect(withScope(text, sys)).toBe(want);
  });
  it('a root service gets --system without --user; a user install is untouched', () => {
    expect(withScope('`heph daemon install`', { system: true })).toBe('`heph daemon install --system`');
    expect(withScope('`heph daemon install`', { system: false, runAs: 'x' })).toBe('`heph daemon install`');
  });
});

describe('the update notice (update-notifier: once a day, to a terminal, never with --json)', () => {
  const now = 1_800_000_000_000;
  const base = {
    argv: ['config', 'get'],
    json: false,
    tty: true,
    system: false,
    candidate: '1.2.0',
    version: '1.0.0',
    lastShownAt: null as number | null,
    now,
  };
  it.each([
    ['a person at a terminal, first time', {}, '1.2.0'],
    ['--json', { json: true }, null],
    ['not a terminal (a script, a pipe)', { tty: false }, null],
    ['shown an hour ago', { lastShownAt: now - 3_600_000 }, null],
    ['shown a day ago', { lastShownAt: now - NOTICE_INTERVAL_MS }, '1.2.0'],
    ['a "last shown" in the future (clock went back)', { lastShownAt: now + 3_600_000 }, '1.2.0'],
    ['after uninstall --purge', { argv: ['daemon', 'uninstall', '--purge'] }, null],
    ['after update rollback', { argv: ['update', 'rollback'] }, null],
    ['after status (it shows the candidate)', { argv: ['status'] }, null],
    ['a --system command (root must not write into the service state)', { system: true }, null],
    ['no newer candidate', { candidate: '1.0.0' }, null],
    ['a junk candidate', { candidate: 'soon' }, null],
  ])('%s', (_name, over, want) => {
    expect(noticeFor({ ...base, ...over })).toBe(want);
  });
});

const state = (detail: Record<string, string>, active = false): ServiceState => ({
  loaded: true,
  active,
  enabled: true,
  detail,
});

describe('reading a started unit back', () => {
  it.each([
    ['answers on its socket', state({ ActiveState: 'active' }, true), true, 'up'],
    [
      'exit 78: failed, not respawned',
      state({ ActiveState: 'failed', ExecMainStatus: '78' }),
      false,
      'failed',
    ],
    [
      'crashes at start, auto-restart',
      state({ ActiveState: 'activating', SubState: 'auto-restart', ExecMainStatus: '1' }),
      false,
      'failed',
    ],
    [
      'restarting after an update (exit 0)',
      state({ ActiveState: 'activating', SubState: 'auto-restart', ExecMainStatus: '0' }),
      false,
      'waiting',
    ],
    ['starting', state({ ActiveState: 'active', SubState: 'running' }, true), false, 'waiting'],
  ])('%s', (_name, s, answered, kind) => {
    expect(judgeStart(s, answered).kind).toBe(kind);
  });
  it('exit 78 is named as a configuration problem', () => {
    const v = judgeStart(state({ ActiveState: 'failed', ExecMainStatus: '78' }), false);
    expect(v).toEqual({ kind: 'failed', why: 'it failed (exit 78: a configuration problem)' });
  });

  const fake = (states: ServiceState[], answersAt = Number.POSITIVE_INFINITY): SettleEffects => {
    let t = 0;
    let i = 0;
    return {
      query: async () => states[Math.min(i++, states.length - 1)]!,
      answers: async () => i > answersAt,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    };
  };
  it('waits through activating until the daemon answers', async () => {
    const s = [state({ ActiveState: 'activating' }), state({ ActiveState: 'active' }, true)];
    expect((await awaitStart(fake(s, 3), 10_000)).kind).toBe('up');
  });
  it('a unit that stays inactive is a failure at the deadline; one that stays active is taken as up', async () => {
    const inactive = await awaitStart(fake([state({ ActiveState: 'inactive' })]), 2_000);
    expect(inactive).toMatchObject({ kind: 'failed', why: 'it stayed inactive' });
    expect((await awaitStart(fake([state({ ActiveState: 'active' }, true)]), 2_000)).kind).toBe('up');
  });
  it('fails as soon as the unit failed, not at the deadline', async () => {
    const fx = fake([
      state({ ActiveState: 'activating' }),
      state({ ActiveState: 'failed', ExecMainStatus: '78' }),
    ]);
    const v = await awaitStart(fx, 60_000);
    expect(v.kind).toBe('failed');
    expect(fx.now()).toBeLessThan(1_000);
  });
});

describe('what a system service user is given', () => {
  const heph: Account = { name: 'heph', uid: 990, gids: [985], group: 'heph' };
  const table: Record<string, FileFacts> = {
    '/var': { uid: 0, gid: 0, mode: 0o755, dir: true },
    '/var/lib': { uid: 0, gid: 0, mode: 0o755, dir: true },
    '/var/lib/heph': { uid: 0, gid: 0, mode: 0o700, dir: true },
    '/var/lib/heph/config.toml': { uid: 0, gid: 0, mode: 0o600, dir: false },
    '/var/lib/heph/data': { uid: 990, gid: 985, mode: 0o700, dir: true },
    '/etc/heph-secret': { uid: 0, gid: 0, mode: 0o700, dir: true },
    '/etc/heph-secret/token': { uid: 0, gid: 0, mode: 0o600, dir: false },
  };
  const stat = (p: string) => table[p] ?? null;
  it("root's 0600 config in a 0700 home: the user's group gets read on the file, search on the folder, nothing else", () => {
    const plan = planAccess(
      {
        files: ['/var/lib/heph/config.toml'],
        folders: ['/var/lib/heph/data'],
        home: '/var/lib/heph',
        who: heph,
      },
      stat,
    );
    expect(plan.blocked).toEqual([]);
    expect(plan.changes).toEqual([
      {
        path: '/var/lib/heph',
        need: 'search',
        before: { gid: 0, mode: 0o700 },
        after: { gid: 985, mode: 0o710 },
      },
      {
        path: '/var/lib/heph/config.toml',
        need: 'read',
        before: { gid: 0, mode: 0o600 },
        after: { gid: 985, mode: 0o640 },
      },
    ]);
  });
  it('what is readable already is left alone; a folder outside the home is reported, not changed', () => {
    const open = (p: string) =>
      p === '/var/lib/heph/config.toml' ? { uid: 0, gid: 0, mode: 0o644, dir: false } : stat(p);
    const plan = planAccess(
      {
        files: ['/var/lib/heph/config.toml', '/etc/heph-secret/token'],
        folders: [],
        home: '/var/lib/heph',
        who: heph,
      },
      open,
    );
    expect(plan.changes.map((c) => c.path)).toEqual(['/var/lib/heph']);
    expect(plan.blocked).toEqual(['/etc/heph-secret', '/etc/heph-secret/token']);
  });
});

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  names: serviceNames(HEPH_NAMES),
  manager: 'systemd',
  scope: 'system',
  runAs: 'heph',
  runAsGroup: 'hephgrp',
  uid: 0,
  node: '/usr/bin/node',
  launcher: '/var/lib/heph/data/bin/hephd',
  environment: { PATH: '/usr/bin', HEPH_HOME: '/var/lib/heph' },
  secretFile: '/var/lib/heph/hephd.env',
  socket: '/var/lib/heph/run/hephd.sock',
  drainTimeoutMs: 30_000,
  configDigest: '0123456789abcdef',
  logDir: '/x',
  home: '/root',
  version: '1.0.0',
  ...over,
});

describe('the socket unit of a service running as a named user', () => {
  it('hands the socket to that user and group; a user or root service names nobody', () => {
    expect(renderSocketUnit(spec())).toMatch(/\nSocketUser=heph\nSocketGroup=hephgrp\n/);
    expect(renderSocketUnit(spec({ runAs: 'root' }))).not.toContain('SocketUser');
    expect(renderSocketUnit(spec({ scope: 'user', runAs: undefined }))).not.toContain('SocketUser');
  });
});

describe('doctor compares what the unit says, not the version that wrote it', () => {
  const facts = (text: string, version: string): DoctorFacts =>
    ({
      version,
      unit: { stamp: readStamp(text), path: '/etc/systemd/system/hephd.service' },
      renderFingerprint: renderFingerprint(spec()),
    }) as unknown as DoctorFacts;
  it('a unit written by 1.0.0 is current for 1.1.0 when 1.1.0 writes the same unit', () => {
    const text = renderSystemdService(spec({ version: '1.0.0' }));
    expect(checkStamp(facts(text, '1.1.0'))).toMatchObject({ status: 'ok' });
  });
  it('a unit from a heph whose template differed is out of date', () => {
    const text = renderSystemdService(
      spec({ version: '1.0.0' }),
      '# {{STAMP}}\n[Service]\nExecStart={{EXEC_START}}\nRestart=always\n',
    );
    expect(checkStamp(facts(text, '1.1.0'))).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('written by heph 1.0.0'),
    });
  });
  it('the fingerprint ignores the values of the install (paths, environment, user)', () => {
    expect(renderFingerprint(spec())).toBe(
      renderFingerprint(spec({ runAs: 'other', environment: { PATH: '/opt/bin' } })),
    );
    expect(renderFingerprint(spec())).not.toBe(renderFingerprint(spec({ scope: 'user', runAs: undefined })));
  });
});

describe("doctor checks the config as the service's user", () => {
  const f = (a: DoctorFacts['configAccess']) =>
    ({ configFile: '/var/lib/heph/config.toml', configAccess: a }) as DoctorFacts;
  it.each([
    [{ reader: 'heph', readable: true, obstacle: null }, 'ok'],
    [
      { reader: 'heph', readable: false, obstacle: '/var/lib/heph/config.toml (owner 0:0, mode 0600)' },
      'fail',
    ],
  ])('%o', (a, status) => {
    const r = checkConfigAccess(f(a));
    expect(r).toMatchObject({ status });
    if (status === 'fail')
      expect((r as { fix: string }).fix).toContain('heph daemon install --system --user heph');
  });
  it('a root or user service has nothing to check', () => {
    expect(checkConfigAccess(f(null))).toBeNull();
  });
});

describe('a shell that cannot reach its user manager', () => {
  it('is told how to fix the shell, and that nothing changed', () => {
    const { message, hint } = unreachable(
      'user',
      { env: {}, uid: 1000 },
      'Failed to connect to bus: No medium found',
    );
    expect(message).toContain('nothing was changed');
    expect(hint).toContain('export XDG_RUNTIME_DIR=/run/user/$(id -u)');
    expect(hint).toContain('login session');
  });
});

describe("root's `config set` on a system service's config", () => {
  it('keeps its owner, group and mode, so the service user still reads it', () => {
    if (process.getuid?.() !== 0) throw new Error('this test chowns a file: run the suite as root');
    const dir = mkdtempSync(join(tmpdir(), 'heph-config-owner-'));
    try {
      const file = join(dir, 'config.toml');
      writeFileSync(file, '[update]\nmode = "off"\n', { mode: 0o640 });
      chmodSync(file, 0o640);
      chownSync(file, 0, 65534); // the service's group
      expect(setConfigValue(file, 'update.interval', '2h')).toEqual({ changed: true });
      const st = statSync(file);
      expect([st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([0, 65534, '640']);
      expect(readFileSync(file, 'utf8')).toContain('interval = "2h"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
