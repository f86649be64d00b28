// systemd: where units live, the exact systemctl/journalctl argv for every verb, and reading
// `systemctl show` back. Pure functions over a spec; running them is the caller's (runner.ts).
import { join } from 'node:path';
import type { Env } from '../platform/paths.js';
import { renderSocketUnit, renderSystemdService } from './render.js';
import type { Cmd } from './runner.js';
import { HEPH_NAMES } from '../app/identity.js';
import { type ServiceNames, SYSTEM_UNIT_DIR, serviceNames } from '../app/service-names.js';
import type { Scope, ServiceSpec } from './spec.js';
import type { LogOptions, ServiceBackend, ServiceState, UnitFile, Verb } from './types.js';

/** A file here means the user's manager keeps running after logout (`loginctl enable-linger`). */
export const LINGER_DIR = '/var/lib/systemd/linger';

export function systemdUnitDir(scope: Scope, env: Env, home: string): string {
  if (scope === 'system') return SYSTEM_UNIT_DIR;
  const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(home, '.config');
  return join(xdg, 'systemd', 'user');
}

function systemctl(scope: Scope, ...args: string[]): Cmd {
  return { file: 'systemctl', args: scope === 'user' ? ['--user', ...args] : args };
}

/** The properties `status` and `install` read; stable across systemd versions since 2015. */
const SHOW_PROPERTIES = 'LoadState,ActiveState,SubState,UnitFileState,MainPID,NRestarts,ExecMainStatus';

export function parseShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** The systemd backend for an app's units (`acmed.service`, `acmed.socket`). */
export function systemdBackend(n: ServiceNames): ServiceBackend {
  const UNIT_NAME = n.unit;
  const SOCKET_UNIT_NAME = n.socketUnit;
  const units = (socket: boolean): string[] => (socket ? [SOCKET_UNIT_NAME, UNIT_NAME] : [UNIT_NAME]);
  return {
    kind: 'systemd',
    capabilities: { socketActivation: true, linger: true, restartPreventExitStatus: true },

    unitFiles(spec: ServiceSpec, env: Env): UnitFile[] {
      const dir = systemdUnitDir(spec.scope, env, spec.home);
      const files: UnitFile[] = [
        { path: join(dir, UNIT_NAME), content: renderSystemdService(spec), mode: 0o644 },
      ];
      if (spec.socket)
        files.push({ path: join(dir, SOCKET_UNIT_NAME), content: renderSocketUnit(spec), mode: 0o644 });
      return files;
    },

    staleFiles(spec: ServiceSpec, env: Env): string[] {
      return spec.socket ? [] : [join(systemdUnitDir(spec.scope, env, spec.home), SOCKET_UNIT_NAME)];
    },

    unitPaths(scope: Scope, env: Env, home: string): string[] {
      const dir = systemdUnitDir(scope, env, home);
      return [join(dir, UNIT_NAME), join(dir, SOCKET_UNIT_NAME)];
    },

    stateQuery(scope: Scope): Cmd {
      return systemctl(scope, 'show', '-p', SHOW_PROPERTIES, UNIT_NAME);
    },

    parseState(result): ServiceState {
      const p = parseShow(result.stdout);
      const active =
        p.ActiveState === 'active' || p.ActiveState === 'activating' || p.ActiveState === 'reloading';
      return {
        loaded: p.LoadState === 'loaded',
        active,
        enabled: p.UnitFileState === 'enabled' || p.UnitFileState === 'enabled-runtime',
        detail: p,
      };
    },

    retireCommands(scope: Scope, stale: string[]): Cmd[] {
      // a socket unit left from `install --socket` would keep holding the daemon's socket path
      return stale.some((f) => f.endsWith(SOCKET_UNIT_NAME))
        ? [{ ...systemctl(scope, 'disable', '--now', SOCKET_UNIT_NAME), tolerateFailure: true }]
        : [];
    },

    installCommands(spec, { changed, state, start, stale = [] }): Cmd[] {
      const cmds: Cmd[] = [];
      if (changed || stale.length) cmds.push(systemctl(spec.scope, 'daemon-reload'));
      const names = units(Boolean(spec.socket));
      if (!start) {
        if (changed || !state.enabled) cmds.push(systemctl(spec.scope, 'enable', ...names));
        return cmds;
      }
      if (spec.socket && changed && state.active) {
        // The running daemon may hold the socket path itself (installed without --socket): the
        // socket unit can bind it only once that daemon has stopped, so stop, then start both.
        // With the socket unit already active this is the same restart, and clients queue meanwhile.
        cmds.push(systemctl(spec.scope, 'stop', UNIT_NAME));
        cmds.push(systemctl(spec.scope, 'enable', '--now', ...names));
        return cmds;
      }
      // enable --now starts what is stopped; a running daemon keeps its old unit until restarted.
      if (changed || !state.enabled || !state.active)
        cmds.push(systemctl(spec.scope, 'enable', '--now', ...names));
      if (changed && state.active) cmds.push(systemctl(spec.scope, 'restart', UNIT_NAME));
      return cmds;
    },

    uninstallCommands(scope: Scope): Cmd[] {
      return [
        { ...systemctl(scope, 'disable', '--now', SOCKET_UNIT_NAME, UNIT_NAME), tolerateFailure: true },
      ];
    },

    afterRemoveCommands(scope: Scope): Cmd[] {
      return [
        systemctl(scope, 'daemon-reload'),
        { ...systemctl(scope, 'reset-failed', UNIT_NAME), tolerateFailure: true },
      ];
    },

    verbCommands(verb: Verb, scope: Scope): Cmd[] {
      if (verb === 'status') return [systemctl(scope, 'status', '--no-pager', '--full', UNIT_NAME)];
      return [systemctl(scope, verb, UNIT_NAME)];
    },

    logsCommand(scope: Scope, opts: LogOptions): Cmd {
      const args = ['-u', UNIT_NAME, '-n', String(opts.lines), '--no-pager'];
      if (opts.follow) args.push('-f');
      return { file: 'journalctl', args: scope === 'user' ? ['--user', ...args] : args };
    },
  };
}

/** heph's own units. */
export const systemd: ServiceBackend = systemdBackend(serviceNames(HEPH_NAMES));
