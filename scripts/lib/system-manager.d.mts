// Types of system-manager.mjs for the TypeScript that uses it (test/e2e/system.test.ts): the
// module stays plain JS beside user-manager.mjs.

export const SYSTEMD_BINARY: string;
export const SYSTEM_HEPH_HOME: string;

/** Why a private system manager cannot be had here, or null when it can. */
export function systemManagerUnavailable(): string | null;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** The whole environment of the command (PATH and LANG are added). */
  env?: Record<string, string>;
  /** Run as this user (setpriv: real and effective uid, its group, its supplementary groups). */
  user?: string;
  /** The group for `user` (default: the group named like the user). */
  group?: string;
  timeoutMs?: number;
  input?: string;
}

export interface SystemManager {
  /** The scratch folder: boot.sh and manager.log (the manager's console). */
  root: string;
  /** The manager's pid as seen from outside (PID 1 inside). */
  pid: number;
  logFile: string;
  /** `file args` inside the manager's namespaces; never rejects. */
  exec(file: string, args?: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** `systemctl …` against this manager; never rejects. */
  systemctl(...args: string[]): Promise<ExecResult>;
  /** A path as the manager sees it, readable from outside (`/proc/PID/root/…`). */
  inside(path: string): string;
  show(unit: string, props: string[]): Promise<Record<string, string>>;
  /** `journalctl -u unit -n lines` inside. */
  journal(unit: string, lines?: number): Promise<string>;
  logTail(lines?: number): string;
  /** poweroff (SIGKILL to its PID 1 if it hangs), cgroups removed, scratch removed unless clean: false. */
  stop(opts?: { clean?: boolean }): Promise<void>;
}

export function startSystemManager(opts?: {
  label?: string;
  log?: (text: string) => void;
}): Promise<SystemManager>;
