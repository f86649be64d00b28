// The daemon's brain, free of process concerns: it runs checks (recording their outcome in
// state.json), announces and auto-installs candidates, answers the control API and reports status.
import { appendAudit } from '../audit/log.js';
import type { Config } from '../config/schema.js';
import { describeError, HephError } from '../errors.js';
import type { InstallResult } from '../install/index.js';
import type { Deps } from '../platform/deps.js';
import type { Supervisor } from '../platform/supervisor.js';
import type { Selection, VersionedRelease } from '../release/types.js';
import type { DaemonApi } from '../control/routes.js';
import type { InstallAttempt, StatusDocument } from '../control/types.js';
import semver from 'semver';
import { type AutoContext, blockOnce, considerCandidate, restartInto } from './auto.js';
import { pauseUpdates, resumeUpdates } from '../update/pause.js';
import { expire, type GuardPolicy, guardPolicyFromConfig, guardStatus } from '../update/guard.js';
import { completeDeferred, configuredWindows } from './deferred.js';
import {
  createPoller,
  MAX_TIMER_MS,
  type PollOutcome,
  type Poller,
  realTimers,
  type Timers,
} from './loop.js';
import { type Rand, sourceChangeDelay } from './schedule.js';
import { changedKeys } from './reload.js';
import { type DaemonState, readState, writeState } from '../update/state.js';
import { type MaintenanceWindow, nextWindow } from './windows.js';
import { type CheckResultLabel, countRollbacks, type InstallResultLabel, renderMetrics } from './metrics.js';
import { rmSync } from 'node:fs';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';

/** /v1/health turns 503 after this many failed checks in a row: the forge is out of reach. */
export const DEGRADED_AFTER_FAILURES = 5;
/** A timed check this late (schedule time) means the loop is stuck; health says so. */
export const LOOP_STALL_MS = 5 * 60_000;

/** What one check hands back (src/update/check.ts checkForUpdate, plus its `update check --json` report). */
export interface CheckOutcome {
  current: string;
  selection: Selection;
  list: { requests: number; bodyBytes: number; fromCache: boolean };
  checkedAt: string;
  /** The `update check --json` document (checkReport), returned by POST /v1/update/check. */
  report: unknown;
}

export type Checker = (opts: { paused: boolean }) => Promise<CheckOutcome>;

export interface Runtime {
  supervisor: Supervisor;
  container: string | null;
  socketActivated: boolean;
  startedAt: number;
  pid: number;
}

export interface DaemonOptions {
  config: Config;
  deps: Deps;
  runtime: Runtime;
  checker: Checker;
  install(release: VersionedRelease, opts?: { stage?: boolean }): Promise<InstallResult>;
  /** Makes a version staged by `install` current (src/install/index.ts switchStaged). */
  switchStaged(version: string): Promise<unknown>;
  /** Drain and exit 0 (the supervisor starts `version`); must return at once. */
  requestRestart(version: string): void;
  /** Re-reads and applies the config (src/daemon/lifecycle.ts); absent: reload is refused. */
  reloadConfig?: (by: 'signal' | 'socket') => Promise<unknown>;
  /** A digest of the config file's text as loaded (doctor compares the file's now). */
  configDigest?: string;
  timers?: Timers;
  rand?: Rand;
  scale?: number;
}

/** `p`, or a rejection as soon as `signal` aborts (`p` is then left to settle unobserved). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** True when `a` is a valid version above `b`; an unreadable remembered value counts as stale. */
function isNewer(a: string, b: string): boolean {
  return semver.valid(a) !== null && semver.valid(b) !== null && semver.gt(a, b);
}

export class Daemon implements DaemonApi {
  readonly state: DaemonState;
  policy: GuardPolicy;
  private poller: Poller | null;
  private lastReport: unknown = null;
  private lastInstall: InstallAttempt | null = null;
  private reason: string | null = null;
  /** The last check's error, so "check now" can answer with the forge's own code and hint. */
  private lastFailure: unknown = null;
  private windows: MaintenanceWindow[];
  /** Fires when the next maintenance window opens while an update waits for it. */
  private windowTimer: unknown = null;
  private stopped = false;
  private configLoadedAt: number;
  /**
   * A reload changed where releases come from: the deferred update came from the old source, so
   * no window switches to it until a check of the new source offers it again.
   */
  private deferredUnconfirmed = false;
  /** Keys a reload changed that take effect only at a restart (`app`: serve read it at start). */
  private restartNeeded: string[] = [];

  constructor(private o: DaemonOptions) {
    this.state = readState(o.deps.paths, { now: o.deps.clock.now(), logger: o.deps.logger });
    this.configLoadedAt = o.runtime.startedAt;
    this.policy = guardPolicyFromConfig(o.config);
    // A supervised restart happened, or we run the version that was pending: nothing is pending.
    if (this.state.pendingRestart === o.deps.app.version || o.runtime.supervisor !== 'none')
      this.state.pendingRestart = null;
    // A candidate remembered from before a restart is news only while it is newer than us: after
    // updating into it (or past it), status must not go on offering the version that runs.
    if (this.state.candidate !== null && !isNewer(this.state.candidate, o.deps.app.version))
      this.state.candidate = null;
    // A deferred update we already run (a manual apply got there first) waits for nothing.
    if (this.state.deferred !== null && !isNewer(this.state.deferred.version, o.deps.app.version))
      this.state.deferred = null;
    this.windows = configuredWindows(o.config.update.windows);
    this.poller = this.makePoller();
  }

  private makePoller(): Poller | null {
    const o = this.o;
    return o.config.update.mode === 'off'
      ? null
      : createPoller({
          clock: o.deps.clock,
          timers: o.timers,
          rand: o.rand,
          scale: o.scale,
          intervalMs: o.config.update.interval,
          jitter: o.config.update.jitter,
          check: (signal) => this.checkOnce(signal),
          failures: () => this.state.consecutiveFailures,
          onSchedule: (at) =>
            o.deps.logger.debug(
              { nextCheckAt: at === null ? null : new Date(at).toISOString() },
              'next check',
            ),
          onError: (e) => o.deps.logger.error({ error: describeError(e) }, 'poll loop error'),
        });
  }

  private get mode() {
    return this.o.config.update.mode;
  }

  persist = (): void => {
    try {
      writeState(this.o.deps.paths, this.state);
    } catch (e) {
      this.o.deps.logger.error(
        { error: describeError(e), file: this.o.deps.paths.stateFile },
        'cannot write state',
      );
    }
    this.writeTextfile();
  };

  /** The metrics textfile this daemon last wrote: a reload that moves or clears it removes it. */
  private wroteTextfile: string | null = null;

  /** [metrics] textfile: the metrics for node_exporter, rewritten atomically on every change. */
  private writeTextfile(): void {
    const file = this.o.config.metrics.textfile;
    if (file === '') return;
    try {
      writeFileAtomic(file, this.metrics(), 0o644);
      this.wroteTextfile = file;
    } catch (e) {
      this.o.deps.logger.warn({ error: describeError(e), file }, 'cannot write the metrics textfile');
    }
  }

  /** Rollbacks happen only before a daemon starts, so the audit log is counted once per start. */
  private rollbacks: number | null = null;

  metrics(): string {
    const now = this.o.deps.clock.now();
    const s = this.state;
    if (this.rollbacks === null) {
      try {
        this.rollbacks = countRollbacks(readTextIfExists(this.o.deps.paths.auditFile));
      } catch {
        this.rollbacks = 0;
      }
    }
    const g = guardStatus(s.guard, this.policy, now);
    const last = s.lastCheckAt === null ? Number.NaN : Date.parse(s.lastCheckAt);
    // The metric names' prefix is the app's name (heph_…, acme_…; docs/operations.md "Metrics").
    return renderMetrics(this.o.deps.app.name, {
      version: this.o.deps.app.version,
      // The newest release on the channel is newer than what runs, whether or not a policy
      // (too young, a major, a pause, staged rollout…) holds it back; a deferred one is newer too.
      updateAvailable:
        (s.latest !== null && isNewer(s.latest, this.o.deps.app.version)) || s.deferred !== null,
      pendingRestart: s.pendingRestart !== null || s.deferred !== null,
      counters: s.counters,
      lastCheckAt: Number.isNaN(last) ? null : last,
      consecutiveFailures: s.consecutiveFailures,
      rollbacks: this.rollbacks,
      circuitOpen: g.circuit === 'open',
      paused: g.paused,
      restartsInWindow: g.restartsInWindow,
    });
  }

  private count(group: 'checks', key: CheckResultLabel): void;
  private count(group: 'installs', key: InstallResultLabel): void;
  private count(group: 'checks' | 'installs', key: string): void {
    const g = this.state.counters[group] as Record<string, number>;
    g[key] = (g[key] ?? 0) + 1;
  }

  start(): void {
    this.persist(); // and the metrics textfile
    const last = this.state.lastCheckAt ? Date.parse(this.state.lastCheckAt) : Number.NaN;
    this.poller?.start(Number.isNaN(last) ? null : last);
    this.armWindow();
  }

  /**
   * Live reload (SIGHUP, POST /v1/config/reload): a validated config and the effects built from
   * it take the place of the old ones. A running check is abandoned (the new loop asks again),
   * an install in progress finishes first; the poll loop keeps its phase (the next check is due
   * an interval after the last one).
   */
  async reconfigure(
    next: Pick<DaemonOptions, 'config' | 'checker' | 'install' | 'switchStaged' | 'configDigest'> & {
      restartNeeded?: string[];
    },
  ): Promise<void> {
    this.configLoadedAt = this.o.deps.clock.now();
    this.restartNeeded = next.restartNeeded ?? [];
    await this.poller?.stop();
    this.disarmWindow();
    // Another forge, repo, channel or pin: what the old source offered is no news any more.
    const source = changedKeys(this.o.config, next.config).filter(
      (k) => k.startsWith('forge.') || k === 'update.channel' || k === 'update.pin',
    );
    if (source.length > 0) {
      const s = this.state;
      this.o.deps.logger.info(
        { changed: source, latest: s.latest, candidate: s.candidate, deferred: s.deferred?.version ?? null },
        'the release source changed: forgetting what the old one offered; checking again soon',
      );
      s.latest = null;
      s.candidate = null;
      this.lastReport = null;
      this.reason = null;
      if (s.deferred !== null) this.deferredUnconfirmed = true;
    }
    this.o = { ...this.o, ...next };
    const old = this.wroteTextfile;
    if (old !== null && old !== next.config.metrics.textfile) {
      // Left behind, node_exporter would go on exporting it beside the new one: duplicate series.
      try {
        rmSync(old, { force: true });
        this.wroteTextfile = null;
      } catch (e) {
        this.o.deps.logger.warn(
          { error: describeError(e), file: old },
          'cannot remove the old metrics textfile',
        );
      }
    }
    this.policy = guardPolicyFromConfig(next.config);
    this.windows = configuredWindows(next.config.update.windows);
    this.poller = this.makePoller();
    if (this.stopped) return;
    this.start(); // the new loop keeps the phase; the textfile is written wherever it is now
    if (source.length > 0)
      this.poller?.soon(sourceChangeDelay(next.config.update.interval, this.o.rand ?? Math.random));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.disarmWindow();
    await this.poller?.stop();
  }

  private disarmWindow(): void {
    if (this.windowTimer !== null) (this.o.timers ?? realTimers).clear(this.windowTimer);
    this.windowTimer = null;
  }

  /** While an update waits for a window (auto mode), a timer for the window's opening. */
  private armWindow(at?: number): void {
    this.disarmWindow();
    if (this.stopped || this.state.deferred === null || this.mode !== 'auto' || this.deferredUnconfirmed)
      return;
    const now = this.o.deps.clock.now();
    const span = nextWindow(this.windows, at ?? now);
    const due = Math.max(now, span === null ? now : span.start, at ?? now);
    const timers = this.o.timers ?? realTimers;
    this.windowTimer = timers.set(
      () => {
        this.windowTimer = null;
        if (this.o.deps.clock.now() < due) return this.armWindow(due); // a long wait, in slices
        void this.windowOpened();
      },
      Math.min(due - now, MAX_TIMER_MS),
    );
  }

  private async windowOpened(): Promise<void> {
    try {
      const r = await completeDeferred(this.autoContext(), this.windows);
      if (r === 'blocked' || r === 'waiting') {
        // The restart guard said not yet: try again when it allows, in this window or the next.
        const d = guardStatus(this.state.guard, this.policy, this.o.deps.clock.now());
        const until = Date.parse(d.cooldownUntil ?? d.pausedUntil ?? '') || this.o.deps.clock.now() + 60_000;
        this.armWindow(until);
      }
    } catch (e) {
      this.o.deps.logger.error({ error: describeError(e) }, 'switching to the deferred update failed');
    }
  }

  /** A timed pause that ran out is lifted here (and audited) rather than silently. */
  private expireGuard(now: number): void {
    const next = expire(this.state.guard, this.policy, now);
    if (next === this.state.guard) return;
    const resumed = this.state.guard.paused && !next.paused;
    this.state.guard = next;
    this.persist();
    if (resumed) {
      appendAudit(
        this.o.deps.paths.auditFile,
        { event: 'update.resumed', version: this.o.deps.app.version, reason: 'pause-expired' },
        this.o.deps.logger,
        this.o.deps.app,
      );
    }
  }

  private autoContext(): AutoContext {
    return {
      config: this.o.config,
      deps: this.o.deps,
      policy: this.policy,
      supervisor: this.o.runtime.supervisor,
      container: this.o.runtime.container,
      state: this.state,
      persist: this.persist,
      install: this.o.install,
      switchStaged: this.o.switchStaged,
      windows: this.windows,
      requestRestart: this.o.requestRestart,
    };
  }

  /**
   * One check and what follows from it; never throws (the loop must survive anything). When the
   * daemon stops (`signal`), the forge request is abandoned at once rather than awaited: a check
   * changes nothing and the next daemon checks again, so a draining daemon never waits for a slow
   * forge. It is not counted as a failure, and its late result starts nothing (no install).
   */
  private async checkOnce(signal: AbortSignal): Promise<PollOutcome> {
    const { deps } = this.o;
    const now = deps.clock.now();
    this.expireGuard(now);
    const paused = this.mode === 'auto' && guardStatus(this.state.guard, this.policy, now).paused;
    let outcome: CheckOutcome;
    try {
      outcome = await untilAborted(this.o.checker({ paused }), signal);
    } catch (e) {
      if (signal.aborted) return this.abandoned();
      this.lastFailure = e;
      const s = this.state;
      s.consecutiveFailures += 1;
      this.count('checks', 'error');
      s.lastCheckAt = new Date(deps.clock.now()).toISOString();
      s.lastResult = e instanceof HephError ? e.code : 'E_INTERNAL';
      s.lastError = describeError(e);
      this.persist();
      deps.logger.warn(
        { failures: s.consecutiveFailures, code: s.lastResult, error: s.lastError },
        'check failed',
      );
      const retryAt = e instanceof HephError ? Number(e.details.retryAt) : Number.NaN;
      return { ok: false, retryAt: Number.isFinite(retryAt) ? retryAt : null };
    }
    if (signal.aborted) return this.abandoned();
    await this.afterCheck(outcome, signal);
    return { ok: true };
  }

  private abandoned(): PollOutcome {
    this.lastFailure = new HephError('E_DAEMON', 'hephd is stopping: the check was abandoned', {
      hint: 'run it again once hephd is back (a restarted hephd also checks by itself)',
    });
    this.o.deps.logger.info('check abandoned: the daemon is stopping');
    return { ok: false, retryAt: null };
  }

  private async afterCheck(outcome: CheckOutcome, signal: AbortSignal): Promise<void> {
    const { config, deps } = this.o;
    const s = this.state;
    const sel = outcome.selection;
    const target = sel.candidate ?? (sel.reason === 'paused' ? sel.blocked : null);
    const changed =
      s.consecutiveFailures > 0 ||
      s.latest !== (sel.latest?.version ?? null) ||
      s.candidate !== (target?.version ?? null);
    s.consecutiveFailures = 0;
    this.count('checks', outcome.list.fromCache ? 'not_modified' : 'ok');
    s.lastCheckAt = outcome.checkedAt;
    s.lastResult = outcome.list.fromCache ? 'not-modified' : 'ok';
    s.lastError = null;
    s.latest = sel.latest?.version ?? null;
    s.candidate = target?.version ?? null;
    this.lastReport = outcome.report;
    this.reason = sel.reason;
    if (this.deferredUnconfirmed) {
      // The first check of a new source: a deferred version it no longer offers is dropped (its
      // store copy stays for `update apply --version`); one it offers again waits as before.
      this.deferredUnconfirmed = false;
      const d = s.deferred;
      if (d !== null && d.version !== target?.version) {
        deps.logger.warn(
          { version: d.version, candidate: target?.version ?? null },
          'the deferred update is not offered by the new release source: it will not be switched to',
        );
        s.deferred = null;
      }
      this.armWindow();
    }
    this.persist();
    if (changed) {
      appendAudit(
        deps.paths.auditFile,
        {
          event: 'update.checked',
          version: deps.app.version,
          latest: s.latest,
          candidate: s.candidate,
          reason: sel.reason,
        },
        deps.logger,
        deps.app,
      );
    }
    if (!target) return;
    try {
      // Imported here: notify.ts brings execa and undici (~1.2 MB of JavaScript) that an idle
      // daemon with no candidate never needs (bench/idle, docs/performance.md).
      const { announce } = await import('./notify.js');
      if (await announce(config, deps, s, target)) this.persist();
    } catch (e) {
      deps.logger.error({ error: describeError(e) }, 'announcing the candidate failed');
    }
    // A daemon that began to stop while announcing starts no install: that would hold its drain.
    if (this.mode !== 'auto' || signal.aborted) return;
    const ctx = this.autoContext();
    if (sel.reason === 'paused') {
      const message = 'updates are paused; run `heph update resume` to resume';
      blockOnce(ctx, target.version, 'paused', message, s.guard.pausedUntil);
      return;
    }
    const result = await considerCandidate({ ...ctx, install: (r, o) => this.installTracked(r, o) }, target);
    if (result === 'notify-only') this.reason = 'container';
    if (result === 'deferred') this.armWindow();
  }

  private async installTracked(
    release: VersionedRelease,
    opts?: { stage?: boolean },
  ): Promise<InstallResult> {
    const at = new Date(this.o.deps.clock.now()).toISOString();
    try {
      const r = await this.o.install(release, opts);
      this.lastInstall = { version: release.version, ok: true, error: null, at };
      this.count('installs', 'ok');
      this.persist();
      return r;
    } catch (e) {
      this.lastInstall = { version: release.version, ok: false, error: describeError(e), at };
      this.count('installs', 'failed');
      this.persist();
      throw e;
    }
  }

  // ---- the control API ----

  health(): { ok: boolean; reason?: string } {
    const s = this.state;
    if (s.consecutiveFailures >= DEGRADED_AFTER_FAILURES) {
      return {
        ok: false,
        reason: `${s.consecutiveFailures} checks failed in a row: ${s.lastError ?? 'unknown error'}`,
      };
    }
    const next = this.poller?.due() ?? null;
    const scale = this.o.scale ?? 1;
    if (
      this.poller &&
      !this.poller.busy() &&
      next !== null &&
      this.o.deps.clock.now() - next > LOOP_STALL_MS * scale
    ) {
      return {
        ok: false,
        reason: `the poll loop is stuck (a check was due at ${new Date(next).toISOString()})`,
      };
    }
    return { ok: true };
  }

  status(): StatusDocument {
    const now = this.o.deps.clock.now();
    this.expireGuard(now);
    const { runtime } = this.o;
    const s = this.state;
    const next = this.poller?.nextAt() ?? null;
    const span = this.windows.length === 0 ? null : nextWindow(this.windows, now);
    const guard = guardStatus(s.guard, this.policy, now, {
      mode: this.mode,
      candidate: s.candidate,
      pendingRestart: s.pendingRestart,
      supervisor: runtime.supervisor,
    });
    if (s.deferred !== null && guard.recommendedAction === null) {
      guard.recommendedAction =
        `${s.deferred.version} is installed and ${this.o.deps.app.daemon} switches to it in the next maintenance window` +
        `${span ? ` (${new Date(Math.max(span.start, now)).toISOString()})` : ''}; run ` +
        `\`${this.o.deps.app.name} update apply --version ${s.deferred.version}\` to switch now`;
    }
    return {
      running: true,
      version: this.o.deps.app.version,
      pid: runtime.pid,
      startedAt: new Date(runtime.startedAt).toISOString(),
      supervisor: runtime.supervisor,
      mode: this.mode,
      update: {
        lastCheckAt: s.lastCheckAt,
        lastResult: s.lastResult,
        lastError: s.lastError,
        latest: s.latest,
        candidate: s.candidate,
        nextCheckAt: next === null ? null : new Date(next).toISOString(),
        consecutiveFailures: s.consecutiveFailures,
        checking: this.poller?.busy() ?? false,
        reason: this.reason,
        lastInstall: this.lastInstall,
      },
      guard,
      pendingRestart: s.pendingRestart ?? s.deferred?.version ?? null,
      deferred:
        s.deferred === null
          ? null
          : { ...s.deferred, windowStart: span ? new Date(Math.max(span.start, now)).toISOString() : null },
      restartWindow:
        span === null
          ? null
          : {
              open: span.start <= now,
              start: new Date(span.start).toISOString(),
              end: new Date(span.end).toISOString(),
              window: span.window,
            },
      container: runtime.container,
      socketActivated: runtime.socketActivated,
      reason: this.modeReason(),
      health: this.health(),
      config: {
        file: this.o.deps.paths.config,
        digest: this.o.configDigest ?? null,
        loadedAt: new Date(this.configLoadedAt).toISOString(),
        restartNeeded: this.restartNeeded,
      },
    };
  }

  /** Why the daemon does less than its mode says, or null (logged at startup, shown in status). */
  modeReason(): string | null {
    if (this.mode === 'off') return 'update.mode is "off": no forge requests are made';
    if (
      this.mode === 'auto' &&
      this.o.runtime.container !== null &&
      !this.o.config.install.allow_in_container
    ) {
      return `in a container (${this.o.runtime.container}): auto acts as notify (install.allow_in_container = false)`;
    }
    if (this.mode === 'auto' && this.o.runtime.supervisor === 'none') {
      return 'no supervisor: new versions are installed but take effect only when hephd is restarted';
    }
    return null;
  }

  async check(): Promise<unknown> {
    if (!this.poller) {
      throw new HephError('E_USAGE', 'update.mode is "off", so the daemon does not ask the forge', {
        hint: 'run `heph update check` for a one-off check, or set update.mode to notify or auto',
      });
    }
    const r = await this.poller.runNow();
    if (!r.ok) {
      if (this.lastFailure instanceof HephError) throw this.lastFailure;
      throw new HephError('E_INTERNAL', `the check failed: ${this.state.lastError ?? 'unknown error'}`, {
        hint: 'the daemon retries by itself with backoff; `heph status` shows when',
      });
    }
    return this.lastReport;
  }

  async apply(body: { installed?: string }): Promise<unknown> {
    const version = body.installed;
    if (version === undefined) {
      throw new HephError('E_USAGE', 'POST /v1/update/apply expects {"installed": "X.Y.Z"}', {
        hint: 'run `heph update apply`: it installs the release, then sends this request',
      });
    }
    if (version === this.o.deps.app.version) return { restarting: false, version, reason: 'already-running' };
    const outcome = restartInto(this.autoContext(), version, 'apply');
    const guard = guardStatus(this.state.guard, this.policy, this.o.deps.clock.now(), {
      mode: this.mode,
      pendingRestart: this.state.pendingRestart,
      supervisor: this.o.runtime.supervisor,
    });
    return {
      restarting: outcome === 'restarting',
      version,
      pendingRestart: this.state.pendingRestart,
      recommendedAction: guard.recommendedAction,
    };
  }

  async reload(): Promise<unknown> {
    if (!this.o.reloadConfig) {
      throw new HephError('E_USAGE', 'this daemon cannot reload its config', {
        hint: 'restart it: `heph daemon restart`',
      });
    }
    return this.o.reloadConfig('socket');
  }

  pause(forMs: number | undefined): unknown {
    const until = pauseUpdates(this.state, this.o.deps, forMs, 'socket');
    this.persist();
    const guard = guardStatus(this.state.guard, this.policy, this.o.deps.clock.now());
    return { paused: true, pausedUntil: until, guard };
  }

  resume(): unknown {
    resumeUpdates(this.state, this.o.deps, 'socket');
    this.persist();
    return { paused: false, guard: guardStatus(this.state.guard, this.policy, this.o.deps.clock.now()) };
  }
}
