// The documents the control socket exchanges, shared by the daemon that writes them and the
// commands that read them (type-only: importing this file costs a command nothing at run time).
import type { GuardStatus } from '../update/guard.js';
import type { Supervisor } from '../platform/supervisor.js';

/** The result of the last install auto mode attempted (status extra). */
export interface InstallAttempt {
  version: string;
  ok: boolean;
  error: string | null;
  at: string;
}

/** GET /v1/status and `heph status --json` (docs/cli.md "status"), plus extras after the documented fields. */
export interface StatusDocument {
  running: boolean;
  version: string | null;
  pid: number | null;
  startedAt: string | null;
  supervisor: Supervisor | null;
  mode: 'off' | 'notify' | 'auto' | null;
  update: {
    lastCheckAt: string | null;
    lastResult: string | null;
    lastError: string | null;
    latest: string | null;
    candidate: string | null;
    nextCheckAt: string | null;
    consecutiveFailures: number;
    /** A check is running now. */
    checking?: boolean;
    /** Why `candidate` is null (the selection's reason), or null. */
    reason?: string | null;
    lastInstall?: InstallAttempt | null;
  } | null;
  guard: GuardStatus | null;
  /** A newer version is installed and waits for a restart. */
  pendingRestart?: string | null;
  /** An update installed outside every maintenance window, waiting for the next one. */
  deferred?: { version: string; staged: boolean; installedAt: string; windowStart: string | null } | null;
  /** The maintenance window open now, else the next (null: no windows, restarts any time). */
  restartWindow?: { open: boolean; start: string; end: string; window: string } | null;
  /** Evidence of a container, or null. */
  container?: string | null;
  socketActivated?: boolean;
  /** Why the daemon does less than its mode says (or, not running, why it did not answer). */
  reason?: string | null;
  health?: { ok: boolean; reason?: string };
  /** The config in force: its file, a digest of the text loaded, and when (start or reload). */
  /** restartNeeded: keys the last reload changed that take effect at the next start (`app`). */
  config?: { file: string; digest: string | null; loadedAt: string; restartNeeded?: string[] };
}
