// Maintenance windows in auto mode: an update installed outside every window waits in the store
// (state.deferred) and is switched to, and restarted into, when the next window opens.
// docs/operations.md "Maintenance windows".
import { appendAudit } from '../audit/log.js';
import { describeError, HephError } from '../errors.js';
import { type AutoContext, type AutoOutcome, guardAllows, restartInto } from './auto.js';
import { type MaintenanceWindow, nextWindow, parseWindow, type WindowSpan } from './windows.js';

/** The configured windows, parsed (the config schema has checked every one). */
export function configuredWindows(windows: readonly string[]): MaintenanceWindow[] {
  return windows.map(parseWindow);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Records that `version` is installed and waits for `span`; audits update.deferred. */
export function deferRestart(
  ctx: AutoContext,
  version: string,
  staged: boolean,
  span: WindowSpan | null,
): AutoOutcome {
  ctx.state.deferred = { version, staged, installedAt: iso(ctx.deps.clock.now()) };
  ctx.persist();
  appendAudit(
    ctx.deps.paths.auditFile,
    {
      event: 'update.deferred',
      version,
      from: ctx.deps.app.version,
      staged,
      windowStart: span ? iso(span.start) : null,
      windowEnd: span ? iso(span.end) : null,
      window: span?.window ?? null,
    },
    ctx.deps.logger,
    ctx.deps.app,
  );
  return 'deferred';
}

/**
 * A staged version that could not be made current (the install lock held by a person's
 * `update apply`, the version pruned or removed since): logged and audited as update.failed
 * with `stage: "switch"`, so the audit does not end at a successful install that never ran.
 */
export function switchFailed(ctx: AutoContext, version: string, e: unknown): void {
  const error = describeError(e);
  ctx.deps.logger.error({ version, error }, 'switching to the staged version failed');
  appendAudit(
    ctx.deps.paths.auditFile,
    {
      event: 'update.failed',
      version,
      from: ctx.deps.app.version,
      method: ctx.config.install.method,
      stage: 'switch',
      error,
      code: e instanceof HephError ? e.code : 'E_INTERNAL',
    },
    ctx.deps.logger,
    ctx.deps.app,
  );
}

export type DeferredOutcome = AutoOutcome | 'waiting' | 'gone' | 'none';

/**
 * Called when a window opens (and at each check): inside a window and allowed by the restart
 * guard, the staged version becomes current and the daemon restarts into it. Never throws.
 */
export async function completeDeferred(
  ctx: AutoContext,
  windows: readonly MaintenanceWindow[],
): Promise<DeferredOutcome> {
  const { state, deps } = ctx;
  const d = state.deferred;
  if (d === null) return 'none';
  const now = deps.clock.now();
  const span = windows.length === 0 ? null : nextWindow(windows, now);
  if (span !== null && span.start > now) return 'waiting';
  if (!guardAllows(ctx, d.version, now)) return 'blocked';
  if (d.staged) {
    try {
      await ctx.switchStaged(d.version);
    } catch (e) {
      // Pruned or removed since (a manual install): forget it; the next check installs again.
      switchFailed(ctx, d.version, e);
      state.deferred = null;
      ctx.persist();
      return 'gone';
    }
  }
  state.deferred = null;
  ctx.persist();
  return restartInto(ctx, d.version, 'auto');
}
