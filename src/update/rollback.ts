// `heph update rollback` as a use case: under the install lock, make `previous` current, remember
// the version rolled away from so auto mode does not take it straight back (reason `rolled-back`,
// until a newer release or `update apply --version` names it), and audit the decision.
import { appendAudit } from '../audit/log.js';
import { markRolledBack } from '../install/launcher-state.js';
import { acquireInstallLock } from '../install/lock.js';
import { rollbackStore } from '../install/store.js';
import type { Deps } from '../platform/deps.js';

export interface Rollback {
  /** The version that was current and is now skipped by auto mode. */
  from: string;
  /** The version that is current now. */
  to: string;
}

export async function rollbackInstall(deps: Deps): Promise<Rollback> {
  const unlock = await acquireInstallLock(deps.paths, 0);
  try {
    const moved = rollbackStore(deps.paths);
    markRolledBack(deps.paths, moved.from, new Date(deps.clock.now()));
    appendAudit(
      deps.paths.auditFile,
      {
        event: 'update.rolled-back',
        version: moved.to,
        from: moved.from,
        reason: 'manual rollback',
        by: 'cli',
      },
      deps.logger,
      deps.app,
    );
    return moved;
  } finally {
    await unlock();
  }
}
