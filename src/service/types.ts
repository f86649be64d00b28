// The shape every service manager backend fills in (systemd.ts, launchd.ts side by side), so the
// install and the verbs are written once against argv lists and files, never per platform.
import type { Env } from '../platform/paths.js';
import type { Cmd, CmdResult } from './runner.js';
import type { ManagerKind, Scope, ServiceSpec } from './spec.js';

export type Verb = 'start' | 'stop' | 'restart' | 'reload' | 'status';

export interface UnitFile {
  path: string;
  content: string;
  mode: number;
}

/** What the manager says about the service right now. */
export interface ServiceState {
  loaded: boolean;
  active: boolean;
  enabled: boolean;
  /** The manager's own words (systemctl show properties, launchctl print fields). */
  detail: Record<string, string>;
}

export interface LogOptions {
  lines: number;
  follow: boolean;
}

export interface InstallSituation {
  /** A unit file was written or rewritten by this install. */
  changed: boolean;
  state: ServiceState;
  /** False with --no-start. */
  start: boolean;
  /** Files from an earlier install this one no longer wants (a socket unit after dropping --socket). */
  stale?: string[];
}

export interface Capabilities {
  /** The manager can hold the control socket across restarts. */
  socketActivation: boolean;
  /** User services stop at logout unless lingering is enabled. */
  linger: boolean;
  /** An exit code can be told not to respawn (systemd RestartPreventExitStatus). */
  restartPreventExitStatus: boolean;
}

export interface ServiceBackend {
  kind: ManagerKind;
  capabilities: Capabilities;
  /** The unit files this spec renders to (not the secret file). */
  unitFiles(spec: ServiceSpec, env: Env): UnitFile[];
  /** Files an earlier install may have written that this spec does not want. */
  staleFiles(spec: ServiceSpec, env: Env): string[];
  /** Stops and disables what stale files describe, before they are removed. */
  retireCommands(scope: Scope, stale: string[]): Cmd[];
  /** Every file an install of this scope may have written (for uninstall and doctor). */
  unitPaths(scope: Scope, env: Env, home: string): string[];
  stateQuery(scope: Scope, uid: number): Cmd;
  parseState(result: CmdResult): ServiceState;
  installCommands(spec: ServiceSpec, situation: InstallSituation): Cmd[];
  uninstallCommands(scope: Scope, uid: number): Cmd[];
  afterRemoveCommands(scope: Scope, uid: number): Cmd[];
  verbCommands(verb: Verb, scope: Scope, uid: number, state: ServiceState, unitPath: string): Cmd[];
  logsCommand(scope: Scope, opts: LogOptions, logFile: string): Cmd;
}
