// Auto mode's decision for one candidate: container and restart-guard checks, the install, then
// a restart the supervisor will complete (or a pending restart when nobody would respawn us).
import { appendAudit } from '../audit/log.js';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { InstallResult } from '../install/index.js';
import type { Deps } from '../platform/deps.js';
import type { Supervisor } from '../platform/supervisor.js';
import type { VersionedRelease } from '../release/types.js';
import { applyBlock, decide, type GuardPolicy, recordRestart } from '../update/guard.js';
import type { DaemonState } from '../update/state.js';
import { deferRestart, switchFailed } from './deferred.js';
import { type MaintenanceWindow, nextWindow } from './windows.js';

/** update.blocked keys remembered ("version:reason"); old versions never come back. */
export const MAX_BLOCKED_KEYS = 100;

export interface AutoContext {
  config: Config;
  deps: Deps;
  policy: GuardPolicy;
  supervisor: Supervisor;
  /** Evidence of a container, or null. */
  container: string | null;
  state: DaemonState;
  persist(): void;
  install(release: VersionedRelease, opts?: { stage?: boolean }): Promise<InstallResult>;
  /** Makes a staged version current (src/install/index.ts switchStaged). */
  switchStaged(version: string): Promise<unknown>;
  /** Maintenance windows (update.windows, parsed); empty = restart any time. */
  windows: readonly MaintenanceWindow[];
  /** Drain and exit 0 so the supervisor starts the new version; returns at once. */
  requestRestart(version: string): void;
}

export type AutoOutcome =
  | 'notify-only'
  | 'blocked'
  | 'already-pending'
  | 'install-failed'
  | 'restarting'
  | 'pending-restart'
  | 'deferred';

/**
 * The restart guard's say on restarting into `version` at `now`: false when it blocks, with the
 * block recorded in the guard state and audited once (update.blocked).
 */
export function guardAllows(
  ctx: Pick<AutoContext, 'deps' | 'state' | 'persist' | 'policy'>,
  version: string,
  now: number,
): boolean {
  const d = decide(ctx.state.guard, ctx.policy, now);
  if (d.allowed) return true;
  ctx.state.guard = applyBlock(ctx.state.guard, d, now);
  ctx.persist();
  blockOnce(ctx, version, d.reason, d.message, d.until);
  return false;
}

/** Audits `update.blocked` once per candidate and reason; later attempts only log. */
export function blockOnce(
  ctx: Pick<AutoContext, 'deps' | 'state' | 'persist'>,
  version: string,
  reason: string,
  message: string,
  until: number | null = null,
): void {
  const key = `${version}:${reason}`;
  if (ctx.state.blocked.includes(key)) {
    ctx.deps.logger.debug({ version, reason }, 'update still blocked');
    return;
  }
  ctx.state.blocked = [...ctx.state.blocked, key].slice(-MAX_BLOCKED_KEYS);
  ctx.persist();
  appendAudit(
    ctx.deps.paths.auditFile,
    {
      event: 'update.blocked',
      version,
      reason,
      message,
      until: until === null ? null : new Date(until).toISOString(),
    },
    ctx.deps.logger,
    ctx.deps.app,
  );
}

/**
 * Ends with the daemon restarting into `version` (supervised), or with a pending restart the
 * status reports. A supervised restart counts in the guard's history and is audited.
 */
export function restartInto(ctx: AutoContext, version: string, by: 'auto' | 'apply'): AutoOutcome {
  const now = ctx.deps.clock.now();
  if (ctx.supervisor === 'none') {
    ctx.state.pendingRestart = version;
    ctx.persist();
    ctx.deps.logger.warn(
      { version, running: ctx.deps.app.version },
      `${version} is installed; hephd runs without a supervisor, so restart it to use the new version`,
    );
    return 'pending-restart';
  }
  ctx.state.guard = recordRestart(ctx.state.guard, ctx.policy, now);
  ctx.state.pendingRestart = version;
  ctx.persist();
  appendAudit(
    ctx.deps.paths.auditFile,
    { event: 'update.restarting', version, from: ctx.deps.app.version, supervisor: ctx.supervisor, by },
    ctx.deps.logger,
    ctx.deps.app,
  );
  ctx.requestRestart(version);
  return 'restarting';
}

/** Auto mode's answer to a candidate. Never throws: an install failure is audited by installRelease. */
export async function considerCandidate(ctx: AutoContext, release: VersionedRelease): Promise<AutoOutcome> {
  const { config, deps, state } = ctx;
  if (ctx.container !== null && !config.install.allow_in_container) {
    blockOnce(
      ctx,
      release.version,
      'container',
      `running in a container (${ctx.container}): auto acts as notify; rebuild the image with ` +
        `${release.version}, or set install.allow_in_container = true`,
    );
    return 'notify-only';
  }
  if (state.pendingRestart === release.version) return 'already-pending';
  if (state.deferred?.version === release.version) return 'deferred';
  if (!guardAllows(ctx, release.version, deps.clock.now())) return 'blocked';
  // With maintenance windows, install into the store only (bundles: staged, `current` untouched)
  // and decide after the install: download, verification and the readiness probe take time, and
  // a window open when the install began may have closed since (docs/operations.md).
  const windowed = ctx.windows.length > 0;
  let staged = false;
  try {
    const result = await ctx.install(release, windowed ? { stage: true } : {});
    staged = result.staged === true;
    deps.logger.info({ version: result.version, method: result.method, staged }, 'installed');
  } catch (e) {
    // installRelease already wrote update.failed; the next try is the next scheduled check.
    deps.logger.error({ version: release.version, error: describeError(e) }, 'install failed');
    return 'install-failed';
  }
  if (!windowed) return restartInto(ctx, release.version, 'auto');
  const after = deps.clock.now();
  const span = nextWindow(ctx.windows, after);
  if (span === null || span.start > after) return deferRestart(ctx, release.version, staged, span);
  if (staged) {
    try {
      await ctx.switchStaged(release.version);
    } catch (e) {
      switchFailed(ctx, release.version, e);
      return 'install-failed';
    }
  }
  return restartInto(ctx, release.version, 'auto');
}
