// The exact commands heph runs for each manager and situation: launchctl's modern verbs (never
// load/unload), systemctl --user with daemon-reload and enable --now, journalctl, tail.
import { HEPH_APP } from '../../src/app/identity.js';
import { HEPH_NAMES } from '../../src/app/identity.js';
import { describe, expect, it } from 'vitest';
import { launchd, parsePrint } from '../../src/service/launchd.js';
import { chooseManager, detectManager } from '../../src/service/manager.js';
import { buildSpec, type ManagerKind, type Scope, type ServiceSpec } from '../../src/service/spec.js';
import { parseShow, systemd } from '../../src/service/systemd.js';
import type { ServiceState } from '../../src/service/types.js';
import { resolvePaths } from '../../src/platform/paths.js';
import type { Cmd } from '../../src/service/runner.js';

const HOME = '/Users/ada';
const paths = resolvePaths(
  { HOME, XDG_CONFIG_HOME: '', XDG_DATA_HOME: '', XDG_STATE_HOME: '' },
  HEPH_NAMES,
  HOME,
);
const PLIST = '/Users/ada/Library/LaunchAgents/dev.heph.hephd.plist';

function spec(manager: ManagerKind, scope: Scope = 'user', socket = false): ServiceSpec {
  return buildSpec({
    app: HEPH_APP,
    manager,
    scope,
    socket,
    env: { PATH: '/usr/bin:/bin' },
    paths,
    uid: 501,
    node: '/usr/local/bin/node',
    home: HOME,
    drainTimeoutMs: 30_000,
    configText: '',
  });
}

const argv = (cmds: Cmd[]) => cmds.map((c) => [c.file, ...c.args].join(' '));
const state = (loaded: boolean, active: boolean, enabled = loaded): ServiceState => ({
  loaded,
  active,
  enabled,
  detail: {},
});

describe('launchctl argument lists', () => {
  it.each([
    [
      'first install',
      true,
      state(false, false),
      true,
      ['launchctl enable gui/501/dev.heph.hephd', `launchctl bootstrap gui/501 ${PLIST}`],
    ],
    [
      'changed plist while loaded',
      true,
      state(true, true),
      true,
      [
        'launchctl bootout gui/501/dev.heph.hephd',
        'launchctl enable gui/501/dev.heph.hephd',
        `launchctl bootstrap gui/501 ${PLIST}`,
      ],
    ],
    ['unchanged and running', false, state(true, true), true, []],
    [
      'unchanged, loaded, not running',
      false,
      state(true, false),
      true,
      ['launchctl kickstart gui/501/dev.heph.hephd'],
    ],
    ['--no-start, first install', true, state(false, false), false, []],
    [
      '--no-start, changed while loaded',
      true,
      state(true, true),
      false,
      ['launchctl bootout gui/501/dev.heph.hephd'],
    ],
  ] as const)('install: %s', (_name, changed, st, start, expected) => {
    expect(argv(launchd.installCommands(spec('launchd'), { changed, state: st, start }))).toEqual(expected);
  });

  it('a LaunchDaemon lives in the system domain', () => {
    const s = { ...spec('launchd', 'system'), runAs: 'heph' };
    expect(
      argv(launchd.installCommands(s, { changed: true, state: state(false, false), start: true })),
    ).toEqual([
      'launchctl enable system/dev.heph.hephd',
      'launchctl bootstrap system /Library/LaunchDaemons/dev.heph.hephd.plist',
    ]);
  });

  it.each([
    ['start', state(true, false), ['launchctl kickstart gui/501/dev.heph.hephd']],
    [
      'start',
      state(false, false),
      ['launchctl enable gui/501/dev.heph.hephd', `launchctl bootstrap gui/501 ${PLIST}`],
    ],
    ['stop', state(true, true), ['launchctl bootout gui/501/dev.heph.hephd']],
    ['stop', state(false, false), []],
    ['restart', state(true, true), ['launchctl kickstart -k gui/501/dev.heph.hephd']],
    ['status', state(true, true), ['launchctl print gui/501/dev.heph.hephd']],
    ['reload', state(true, true), ['launchctl kill SIGHUP gui/501/dev.heph.hephd']],
    ['reload', state(false, false), []],
  ] as const)('%s when loaded=%o', (verb, st, expected) => {
    expect(argv(launchd.verbCommands(verb, 'user', 501, st, PLIST))).toEqual(expected);
  });

  it('never uses the legacy load/unload', () => {
    const all = [
      ...launchd.installCommands(spec('launchd'), { changed: true, state: state(true, true), start: true }),
      ...launchd.uninstallCommands('user', 501),
      ...(['start', 'stop', 'restart', 'status'] as const).flatMap((v) =>
        launchd.verbCommands(v, 'user', 501, state(true, true), PLIST),
      ),
    ];
    expect(all.map((c) => c.args[0])).not.toContain('load');
    expect(all.map((c) => c.args[0])).not.toContain('unload');
    expect(argv(launchd.uninstallCommands('user', 501))).toEqual([
      'launchctl bootout gui/501/dev.heph.hephd',
    ]);
  });

  it('reads launchctl print loosely', () => {
    const out =
      'gui/501/dev.heph.hephd = {\n\tactive count = 1\n\tstate = running\n\tpid = 4242\n\truns = 3\n}';
    expect(parsePrint(out, 0)).toMatchObject({
      loaded: true,
      active: true,
      detail: { pid: '4242', runs: '3' },
    });
    expect(parsePrint('Could not find service', 113)).toMatchObject({ loaded: false, active: false });
  });

  it('logs: tail of the log file', () => {
    const c = launchd.logsCommand(
      'user',
      { lines: 50, follow: true },
      '/Users/ada/Library/Logs/heph/hephd.log',
    );
    expect(argv([c])).toEqual(['tail -n 50 -F /Users/ada/Library/Logs/heph/hephd.log']);
  });
});

describe('systemctl argument lists', () => {
  it.each([
    [
      'first install',
      true,
      state(false, false, false),
      true,
      ['systemctl --user daemon-reload', 'systemctl --user enable --now hephd.service'],
    ],
    [
      'changed unit while running',
      true,
      state(true, true),
      true,
      [
        'systemctl --user daemon-reload',
        'systemctl --user enable --now hephd.service',
        'systemctl --user restart hephd.service',
      ],
    ],
    ['unchanged and running', false, state(true, true), true, []],
    [
      'unchanged but stopped',
      false,
      state(true, false),
      true,
      ['systemctl --user enable --now hephd.service'],
    ],
    [
      '--no-start',
      true,
      state(false, false, false),
      false,
      ['systemctl --user daemon-reload', 'systemctl --user enable hephd.service'],
    ],
  ] as const)('install: %s', (_name, changed, st, start, expected) => {
    expect(argv(systemd.installCommands(spec('systemd'), { changed, state: st, start }))).toEqual(expected);
  });

  it('socket activation enables the socket first; system units drop --user', () => {
    expect(
      argv(
        systemd.installCommands(spec('systemd', 'system', true), {
          changed: true,
          state: state(false, false),
          start: true,
        }),
      ),
    ).toEqual(['systemctl daemon-reload', 'systemctl enable --now hephd.socket hephd.service']);
  });

  it('moving a running service to socket activation stops it before the socket unit binds the path', () => {
    expect(
      argv(
        systemd.installCommands(spec('systemd', 'user', true), {
          changed: true,
          state: state(true, true),
          start: true,
        }),
      ),
    ).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user stop hephd.service',
      'systemctl --user enable --now hephd.socket hephd.service',
    ]);
  });

  it.each([
    ['start', 'systemctl --user start hephd.service'],
    ['stop', 'systemctl --user stop hephd.service'],
    ['restart', 'systemctl --user restart hephd.service'],
    ['reload', 'systemctl --user reload hephd.service'],
    ['status', 'systemctl --user status --no-pager --full hephd.service'],
  ] as const)('%s', (verb, expected) => {
    expect(argv(systemd.verbCommands(verb, 'user', 0, state(true, true), ''))).toEqual([expected]);
  });

  it('dropping --socket retires the socket unit, then reloads', () => {
    const stale = ['/home/ada/.config/systemd/user/hephd.socket'];
    expect(argv(systemd.retireCommands('user', stale))).toEqual([
      'systemctl --user disable --now hephd.socket',
    ]);
    expect(argv(systemd.retireCommands('user', []))).toEqual([]);
    expect(
      argv(
        systemd.installCommands(spec('systemd'), {
          changed: false,
          state: state(true, true),
          start: true,
          stale,
        }),
      ),
    ).toEqual(['systemctl --user daemon-reload']);
    expect(systemd.staleFiles(spec('systemd', 'user', true), {})).toEqual([]);
  });

  it('uninstall, logs and the state query', () => {
    expect(argv(systemd.uninstallCommands('user', 0))).toEqual([
      'systemctl --user disable --now hephd.socket hephd.service',
    ]);
    expect(argv(systemd.afterRemoveCommands('user', 0))).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user reset-failed hephd.service',
    ]);
    expect(argv([systemd.logsCommand('user', { lines: 20, follow: true }, '')])).toEqual([
      'journalctl --user -u hephd.service -n 20 --no-pager -f',
    ]);
    expect(argv([systemd.logsCommand('system', { lines: 100, follow: false }, '')])).toEqual([
      'journalctl -u hephd.service -n 100 --no-pager',
    ]);
    expect(argv([systemd.stateQuery('user', 0)])).toEqual([
      'systemctl --user show -p LoadState,ActiveState,SubState,UnitFileState,MainPID,NRestarts,ExecMainStatus hephd.service',
    ]);
  });

  it('reads systemctl show', () => {
    const out =
      'LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nMainPID=77\nNRestarts=2\n';
    expect(parseShow(out)).toMatchObject({ MainPID: '77', NRestarts: '2' });
    expect(systemd.parseState({ exitCode: 0, stdout: out, stderr: '' })).toMatchObject({
      loaded: true,
      active: true,
      enabled: true,
    });
    const gone = 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\n';
    expect(systemd.parseState({ exitCode: 0, stdout: gone, stderr: '' })).toMatchObject({
      loaded: false,
      active: false,
    });
  });
});

describe('which manager', () => {
  it.each([
    ['darwin', false, 'launchd'],
    ['linux', true, 'systemd'],
    ['linux', false, null],
    ['win32', false, null],
  ] as const)('%s with systemd booted=%o → %s', (platform, systemdBooted, expected) => {
    expect(detectManager({ platform, systemdBooted })).toBe(expected);
  });

  it('--manager may name another one (dry runs) and says so; none at all is an error with a fix', () => {
    expect(chooseManager('launchd', { platform: 'linux', systemdBooted: true })).toMatchObject({
      forced: true,
    });
    expect(
      chooseManager(undefined, { platform: 'linux', systemdBooted: true }).capabilities.socketActivation,
    ).toBe(true);
    expect(() => chooseManager(undefined, { platform: 'linux', systemdBooted: false })).toThrow(
      /no supported service manager/,
    );
  });
});
