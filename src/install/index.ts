// installRelease: the one entry point the CLI and the daemon use to install a release. It takes
// the install lock, cleans a crashed install's leftovers, dispatches on install.method and
// writes the audit trail (installing, then installed or failed).
import type { InstallHooks } from './steps.js';
import type { Config } from '../config/schema.js';
import { describeError, HephError } from '../errors.js';
import type { ForgeClient } from '../forge/types.js';
import { appendAudit } from '../audit/log.js';
import type { Deps } from '../platform/deps.js';
import type { VersionedRelease } from '../release/types.js';
import { installBundle } from './bundle.js';
import { installIoError } from './io-errors.js';
import { acquireInstallLock } from './lock.js';
import { installWithCommand, installWithNpm } from './methods.js';
import { runningFromStore, runningPackageRoot } from './running.js';
import { cleanStore, ensureStore, isComplete, prune, readStore, swapCurrent, versionDir } from './store.js';

export { installRunningVersion } from './running.js';
export { cleanStore, prune, readStore, rollbackStore, swapCurrent } from './store.js';

export type InstallMethod = 'bundle' | 'npm' | 'command';

export interface InstallOptions {
  config: Config;
  deps: Deps;
  client: ForgeClient;
  release: VersionedRelease;
  onProgress?: (received: number, total: number | null) => void;
  /** Wait this long for another install to finish; 0 or absent: fail with E_LOCKED at once. */
  lockWaitMs?: number;
  signal?: AbortSignal;
  /** Observers of the bundle install's steps and the disk (tests: kill -9 at a step, a full disk). */
  hooks?: InstallHooks;
  /**
   * Bundle only: put the version into the store but do not make it current (a maintenance window
   * is not open yet); switchStaged() makes it current later. Other methods switch as they install.
   */
  stage?: boolean;
}

export interface InstallResult {
  version: string;
  method: InstallMethod;
  /** The version folder in the store (bundle), else null. */
  path: string | null;
  /** The version that was current before (bundle), else null. */
  previous: string | null;
  /** The version was already current: nothing was downloaded or switched. */
  alreadyCurrent: boolean;
  /** The version is in the store but not current (InstallOptions.stage). */
  staged?: boolean;
}

/** E_NOT_OWNED unless the store holds a current version or this app runs from the store. */
function assertStoreOwnsApp(deps: Deps, current: string | null): void {
  const { name } = deps.app;
  if (current !== null || runningFromStore(deps.paths, runningPackageRoot(name))) return;
  throw new HephError(
    'E_NOT_OWNED',
    `this ${name} was not installed into its store (${deps.paths.store} has no current version), so it cannot switch versions`,
    {
      hint: `run \`${name} daemon install\` to let ${name} own a copy of itself, or set install.method = "npm" or "command" to update through your package manager`,
    },
  );
}

/**
 * Makes a staged version (installRelease with `stage`) current, under the install lock, and
 * prunes the store. Throws E_NOT_FOUND when the folder is gone or incomplete (pruned since).
 */
export async function switchStaged(
  config: Config,
  deps: Deps,
  version: string,
): Promise<{ previous: string | null }> {
  const unlock = await acquireInstallLock(deps.paths, 0);
  try {
    const r = swapCurrent(deps.paths, version);
    const pruned = prune(deps.paths, config.install.keep);
    if (pruned.length) deps.logger.info({ pruned }, 'pruned old versions');
    return r;
  } finally {
    await unlock();
  }
}

export async function installRelease(opts: InstallOptions): Promise<InstallResult> {
  const { config, deps, release } = opts;
  const method = config.install.method;
  const { paths, logger } = deps;
  const version = release.version;

  const unlock = await acquireInstallLock(paths, opts.lockWaitMs ?? 0);
  let from: string | null = deps.app.version;
  try {
    if (method === 'bundle') {
      ensureStore(paths);
      const removed = cleanStore(paths);
      if (removed.length) logger.info({ removed }, 'removed leftovers of an interrupted install');
      const store = readStore(paths);
      assertStoreOwnsApp(deps, store.current);
      from = store.current;
      if (store.current === version && isComplete(versionDir(paths, version), paths.versionFiles)) {
        return {
          version,
          method,
          path: versionDir(paths, version),
          previous: store.previous,
          alreadyCurrent: true,
        };
      }
    }
    appendAudit(
      paths.auditFile,
      { event: 'update.installing', version, from, method, tag: release.tag },
      logger,
      deps.app,
    );
    try {
      let path: string | null = null;
      let previous: string | null = null;
      if (method === 'bundle') {
        ({ path, previous } = await installBundle(opts));
      } else if (method === 'npm') {
        await installWithNpm(config, deps, release, opts.client);
      } else {
        await installWithCommand(config, deps, release);
      }
      const staged = method === 'bundle' && opts.stage === true;
      appendAudit(
        paths.auditFile,
        { event: 'update.installed', version, from, method, path, ...(staged ? { staged } : {}) },
        logger,
        deps.app,
      );
      return { version, method, path, previous, alreadyCurrent: false, staged };
    } catch (raw) {
      const e = installIoError(raw, version, paths.store);
      const code = e instanceof HephError ? e.code : 'E_INTERNAL';
      // an attestation refusal's rule (attestation/refusal.ts), for alerts that match on it
      const rule = e instanceof HephError && typeof e.details.rule === 'string' ? e.details.rule : null;
      appendAudit(
        paths.auditFile,
        {
          event: 'update.failed',
          version,
          from,
          method,
          error: describeError(e),
          code,
          ...(rule !== null ? { rule } : {}),
        },
        logger,
        deps.app,
      );
      throw e;
    }
  } catch (e) {
    throw installIoError(e, version, paths.store); // the store itself (ensureStore, cleanStore)
  } finally {
    await unlock();
  }
}
export { markHealthy, readQuarantined } from './launcher-state.js';
export { renderLauncher, writeLauncher } from './launcher.js';
