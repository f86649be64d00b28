// state.json: what the daemon remembers across restarts (last check, failures, candidates it
// has already announced, the restart guard's history, a manual pause). Written atomically;
// an unreadable file is set aside (state.json.corrupt) and replaced, never fatal.
import { renameSync } from 'node:fs';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';

export const STATE_VERSION = 1;

export interface GuardHistory {
  /** Epoch ms of each self-restart for an update, oldest first (trimmed to the window). */
  restarts: number[];
  /** Epoch ms at which the circuit opened, or null when closed. */
  circuitOpenedAt: number | null;
  paused: boolean;
  /** Epoch ms at which a timed pause ends; null = until resumed. */
  pausedUntil: number | null;
}

export interface DaemonState {
  v: number;
  lastCheckAt: string | null;
  /** "ok", "not-modified" or an error code such as "E_FORGE_UNREACHABLE". */
  lastResult: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  latest: string | null;
  candidate: string | null;
  /** Candidates already announced (update.available once per candidate, not per poll). */
  announced: string[];
  /** "version:reason" pairs already audited as update.blocked (once per candidate and reason). */
  blocked: string[];
  /** Set while a newer version is installed but the daemon could not restart itself. */
  pendingRestart: string | null;
  guard: GuardHistory;
}

export function emptyState(): DaemonState {
  return {
    v: STATE_VERSION,
    lastCheckAt: null,
    lastResult: null,
    lastError: null,
    consecutiveFailures: 0,
    latest: null,
    candidate: null,
    announced: [],
    blocked: [],
    pendingRestart: null,
    guard: { restarts: [], circuitOpenedAt: null, paused: false, pausedUntil: null },
  };
}

export function readState(paths: Paths): DaemonState {
  const text = readTextIfExists(paths.stateFile);
  if (!text) return emptyState();
  try {
    const parsed = JSON.parse(text) as Partial<DaemonState>;
    const base = emptyState();
    return { ...base, ...parsed, guard: { ...base.guard, ...(parsed.guard ?? {}) }, v: STATE_VERSION };
  } catch {
    try {
      renameSync(paths.stateFile, `${paths.stateFile}.corrupt`);
    } catch {
      // already gone
    }
    return emptyState();
  }
}

export function writeState(paths: Paths, state: DaemonState): void {
  writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** Read-modify-write in one step (the daemon is the only long-lived writer). */
export function updateState(paths: Paths, change: (s: DaemonState) => void): DaemonState {
  const s = readState(paths);
  change(s);
  writeState(paths, s);
  return s;
}
