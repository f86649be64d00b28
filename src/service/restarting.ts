// "Is the service manager restarting hephd right now?" — the second sign of a restart (after the
// stop marker) that lets clients wait through a restart instead of saying "not running" at once.
import type { ServiceDeps } from './effects.js';
import { queryState } from './install.js';
import { detectManager } from './manager.js';
import { launchd } from './launchd.js';
import type { ManagerKind, Scope } from './spec.js';
import { systemd } from './systemd.js';
import type { ServiceState } from './types.js';

/** systemd states in which a new main process is on its way. */
const SYSTEMD_COMING_BACK = new Set(['activating', 'deactivating', 'reloading']);

/** Pure: does this state mean the manager will have hephd answering again shortly? */
export function isRestarting(kind: ManagerKind, state: ServiceState): boolean {
  if (kind === 'systemd') {
    // auto-restart: waiting out RestartSec before the next start
    return (
      SYSTEMD_COMING_BACK.has(state.detail.ActiveState ?? '') || state.detail.SubState === 'auto-restart'
    );
  }
  // KeepAlive respawns a loaded job that is not running (after ThrottleInterval)
  return state.loaded && !state.active;
}

/** Asks the manager of this machine (user service first); false when there is none. */
export async function serviceRestarting(
  d: ServiceDeps,
  scopes: Scope[] = ['user', 'system'],
): Promise<boolean> {
  const kind = detectManager(d.facts);
  if (kind === null) return false;
  const backend = kind === 'systemd' ? systemd : launchd;
  for (const scope of scopes) {
    if (!d.exists(backend.unitPaths(scope, d.env, d.home)[0]!)) continue;
    if (isRestarting(kind, await queryState(backend, scope, d))) return true;
  }
  return false;
}
