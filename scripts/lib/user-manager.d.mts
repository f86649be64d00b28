// Types of user-manager.mjs for the TypeScript that uses it (the e2e driver, the self-update
// bench): the module stays plain JS so that `node scripts/demo.mjs` runs it without a compiler.

export const SYSTEMD_BINARY: string;

/** Why a real user manager cannot be had here, or null when it can. */
export function userManagerUnavailable(opts?: { insideNamespace?: boolean }): string | null;

/** Makes /run/systemd/system exist only inside this mount namespace (call inside `unshare -m`). */
export function privateSystemdMarker(): void;

export interface ScratchEnv {
  HOME: string;
  XDG_CONFIG_HOME: string;
  XDG_DATA_HOME: string;
  XDG_STATE_HOME: string;
  XDG_RUNTIME_DIR: string;
}

/** HOME and the XDG folders of one scratch user under `root`, made (0700), as variables. */
export function scratchEnv(root: string): ScratchEnv;

export interface SystemctlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface UserManager {
  /** The scratch folder: HOME, XDG folders and manager.log live below it. */
  root: string;
  /** HOME, XDG_*, PATH and LANG: the whole environment of the manager and its units. */
  env: ScratchEnv & { PATH: string; LANG: string };
  pid: number;
  logFile: string;
  /** `systemctl --user …` against this manager; never rejects. */
  systemctl(...args: string[]): Promise<SystemctlResult>;
  /** `systemctl --user show -p …` as a record. */
  show(unit: string, props: string[]): Promise<Record<string, string>>;
  /** The last lines of the manager's log (units' output lands there). */
  logTail(lines?: number): string;
  /** Stops `units`, ends the manager by its pid (SIGTERM, then SIGKILL), removes its cgroups. */
  stop(units?: string[]): Promise<void>;
}

export function startUserManager(opts?: {
  root?: string;
  pidFile?: string;
  label?: string;
  log?: (text: string) => void;
}): Promise<UserManager>;
