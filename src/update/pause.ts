// Pause and resume, the operator's manual override of auto mode: one implementation, used by the
// daemon (POST /v1/update/pause|resume, on its in-memory state) and by `heph update pause|resume`
// when no daemon runs (on state.json). Each changes the state and writes its audit event.
import { appendAudit } from '../audit/log.js';
import { pause } from './guard.js';
import { type DaemonState, resumeState } from './state.js';
import type { Deps } from '../platform/deps.js';

/** Who asked: the socket (a client of the daemon) or the command line with no daemon. */
export type By = 'socket' | 'cli';

/** Pauses auto installs (for `forMs`, or until resumed); returns when the pause ends (ISO) or null. */
export function pauseUpdates(
  state: DaemonState,
  deps: Deps,
  forMs: number | undefined,
  by: By,
): string | null {
  const now = deps.clock.now();
  state.guard = pause(state.guard, now, forMs);
  const until = forMs === undefined ? null : new Date(now + forMs).toISOString();
  appendAudit(
    deps.paths.auditFile,
    { event: 'update.paused', version: deps.app.version, until, by },
    deps.logger,
    deps.app,
  );
  return until;
}

/**
 * Lifts every guard block, whatever its timestamps (resumeState: the pause, an open circuit, the
 * restart history), and forgets which blocks were audited, so a new block after this is news again.
 */
export function resumeUpdates(state: DaemonState, deps: Deps, by: By): void {
  resumeState(state);
  appendAudit(
    deps.paths.auditFile,
    { event: 'update.resumed', version: deps.app.version, by },
    deps.logger,
    deps.app,
  );
}
