// launchd: where plists live, the exact launchctl argv (bootstrap/bootout/kickstart/print, never
// the legacy load/unload that always exit 0), and reading `launchctl print` back loosely.
import { join } from 'node:path';
import type { Env } from '../platform/paths.js';
import { renderPlist } from './render.js';
import type { Cmd } from './runner.js';
import { HEPH_NAMES } from '../app/identity.js';
import { type ServiceNames, serviceNames } from '../app/service-names.js';
import type { Scope, ServiceSpec } from './spec.js';
import type { LogOptions, ServiceBackend, ServiceState, UnitFile, Verb } from './types.js';

export const SYSTEM_PLIST_DIR = '/Library/LaunchDaemons';

export function launchdPlistDir(scope: Scope, home: string): string {
  return scope === 'system' ? SYSTEM_PLIST_DIR : join(home, 'Library', 'LaunchAgents');
}

/** `gui/501` for a LaunchAgent (the logged-in user's domain), `system` for a LaunchDaemon. */
export function launchdDomain(scope: Scope, uid: number): string {
  return scope === 'system' ? 'system' : `gui/${uid}`;
}

export function launchdTarget(n: ServiceNames, scope: Scope, uid: number): string {
  return `${launchdDomain(scope, uid)}/${n.launchdLabel}`;
}

function launchctl(...args: string[]): Cmd {
  return { file: 'launchctl', args };
}

/**
 * `launchctl print` is documented as not a stable format, so only two loose facts are read: it
 * exits 0 when the job is loaded, and a `state = running` line means a process is up.
 */
export function parsePrint(stdout: string, exitCode: number): ServiceState {
  const detail: Record<string, string> = {};
  for (const key of ['state', 'pid', 'last exit code', 'runs']) {
    const m = new RegExp(`^\\s*${key} = (.+)$`, 'm').exec(stdout);
    if (m) detail[key] = m[1]!.trim();
  }
  const loaded = exitCode === 0;
  return { loaded, active: loaded && detail.state === 'running', enabled: loaded, detail };
}

export function plistPath(n: ServiceNames, scope: Scope, home: string): string {
  return join(launchdPlistDir(scope, home), `${n.launchdLabel}.plist`);
}

/** The launchd backend for an app's job (`<reverse-dns>.acmed`). */
export function launchdBackend(n: ServiceNames): ServiceBackend {
  return {
    kind: 'launchd',
    capabilities: { socketActivation: false, linger: false, restartPreventExitStatus: false },

    unitFiles(spec: ServiceSpec, _env: Env): UnitFile[] {
      return [{ path: plistPath(n, spec.scope, spec.home), content: renderPlist(spec), mode: 0o644 }];
    },

    staleFiles(): string[] {
      return [];
    },

    retireCommands(): Cmd[] {
      return [];
    },

    unitPaths(scope: Scope, _env: Env, home: string): string[] {
      return [plistPath(n, scope, home)];
    },

    stateQuery(scope: Scope, uid: number): Cmd {
      return launchctl('print', launchdTarget(n, scope, uid));
    },

    parseState(result): ServiceState {
      return parsePrint(result.stdout, result.exitCode);
    },

    installCommands(spec, { changed, state, start }): Cmd[] {
      const domain = launchdDomain(spec.scope, spec.uid);
      const target = launchdTarget(n, spec.scope, spec.uid);
      const file = plistPath(n, spec.scope, spec.home);
      const cmds: Cmd[] = [];
      // launchd reads a plist only at bootstrap: a changed one means bootout, then bootstrap again.
      if (changed && state.loaded) cmds.push({ ...launchctl('bootout', target), tolerateFailure: true });
      if (!start) return cmds;
      if (changed || !state.loaded) {
        // a job once `launchctl disable`d refuses to bootstrap until enabled again
        cmds.push(launchctl('enable', target), launchctl('bootstrap', domain, file));
      } else if (!state.active) {
        cmds.push(launchctl('kickstart', target));
      }
      return cmds;
    },

    uninstallCommands(scope: Scope, uid: number): Cmd[] {
      return [{ ...launchctl('bootout', launchdTarget(n, scope, uid)), tolerateFailure: true }];
    },

    afterRemoveCommands(): Cmd[] {
      return [];
    },

    verbCommands(verb: Verb, scope: Scope, uid: number, state: ServiceState, unitPath: string): Cmd[] {
      const target = launchdTarget(n, scope, uid);
      switch (verb) {
        case 'start':
          // bootstrap starts it (RunAtLoad); a loaded job that is not running needs a kickstart
          return state.loaded
            ? [launchctl('kickstart', target)]
            : [launchctl('enable', target), launchctl('bootstrap', launchdDomain(scope, uid), unitPath)];
        case 'stop':
          // KeepAlive would respawn a killed job at once; only bootout stops it for good
          return state.loaded ? [launchctl('bootout', target)] : [];
        case 'restart':
          return state.loaded
            ? [launchctl('kickstart', '-k', target)]
            : [launchctl('enable', target), launchctl('bootstrap', launchdDomain(scope, uid), unitPath)];
        case 'reload':
          // SIGHUP makes the daemon re-read its config (docs/operations.md "Live reload")
          return state.loaded ? [launchctl('kill', 'SIGHUP', target)] : [];
        case 'status':
          return [launchctl('print', target)];
      }
    },

    logsCommand(_scope: Scope, opts: LogOptions, logFile: string): Cmd {
      const args = ['-n', String(opts.lines)];
      if (opts.follow) args.push('-F');
      return { file: 'tail', args: [...args, logFile] };
    },
  };
}

/** heph's own job. */
export const launchd: ServiceBackend = launchdBackend(serviceNames(HEPH_NAMES));
