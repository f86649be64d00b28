// The restart guard: whether the daemon may restart itself into a new version now (pause,
// circuit, cooldown, restarts per window), and what an operator should do. Pure over GuardHistory.
import type { Config } from '../config/schema.js';
import { formatDuration, humanDuration } from '../config/duration.js';
import type { GuardHistory } from './state.js';

export interface GuardPolicy {
  /** Least time between two self-restarts (restart.cooldown). */
  cooldownMs: number;
  /** Self-restarts allowed per window; one more attempt opens the circuit (restart.max_per_window). */
  maxPerWindow: number;
  /** The sliding window, and how long an open circuit stays open (restart.window). */
  windowMs: number;
}

export type BlockReason = 'paused' | 'cooldown' | 'circuit-open' | 'window-full';

export type GuardDecision =
  | { allowed: true }
  | { allowed: false; reason: BlockReason; until: number | null; message: string };

export interface GuardContext {
  mode: 'off' | 'notify' | 'auto';
  candidate?: string | null;
  pendingRestart?: string | null;
  supervisor?: 'systemd' | 'launchd' | 'none';
}

export interface GuardStatus {
  paused: boolean;
  pausedUntil: string | null;
  cooldownUntil: string | null;
  restartsInWindow: number;
  circuit: 'closed' | 'open';
  recommendedAction: string | null;
}

export function guardPolicyFromConfig(config: Config): GuardPolicy {
  return {
    cooldownMs: config.restart.cooldown,
    maxPerWindow: config.restart.max_per_window,
    windowMs: config.restart.window,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A timed pause that has ended counts as no pause, whether or not expire() has run yet. */
function isPaused(h: GuardHistory, now: number): boolean {
  return h.paused && (h.pausedUntil === null || now < h.pausedUntil);
}

function lastRestart(h: GuardHistory): number | null {
  return h.restarts.length === 0 ? null : Math.max(...h.restarts);
}

/**
 * When an open circuit closes by itself: a full window after it opened (or after the latest
 * restart, if one happened since, e.g. a manual apply). Stuck-forever would strand a fleet.
 */
export function circuitClosesAt(h: GuardHistory, p: GuardPolicy): number | null {
  if (h.circuitOpenedAt === null) return null;
  return Math.max(h.circuitOpenedAt, lastRestart(h) ?? h.circuitOpenedAt) + p.windowMs;
}

function isCircuitOpen(h: GuardHistory, p: GuardPolicy, now: number): boolean {
  const closesAt = circuitClosesAt(h, p);
  return closesAt !== null && now < closesAt;
}

/**
 * Restarts in the sliding window (now - window, now]. Entries "in the future" (the clock was
 * set back) still count: when unsure, the guard errs towards fewer restarts; clampToNow() keeps
 * them from blocking past now + cooldown.
 */
export function restartsInWindow(h: GuardHistory, p: GuardPolicy, now: number): number {
  return h.restarts.filter((t) => t > now - p.windowMs).length;
}

function cooldownUntil(h: GuardHistory, p: GuardPolicy, now: number): number | null {
  const last = lastRestart(h);
  if (last === null || now >= last + p.cooldownMs) return null;
  return last + p.cooldownMs;
}

const HOUR_MS = 3_600_000;

/** "24h" reads better than "1d" for a window, as the config default is written; "3d" stays. */
function windowText(ms: number): string {
  return ms % HOUR_MS === 0 && ms < 48 * HOUR_MS ? `${ms / HOUR_MS}h` : formatDuration(ms);
}

function circuitMessage(p: GuardPolicy, closesAt: number): string {
  return (
    `${p.maxPerWindow} self-restarts within ${windowText(p.windowMs)} opened the circuit; ` +
    `check \`heph update history\`, then run \`heph update resume\` to allow updates again ` +
    `(it closes by itself at ${iso(closesAt)})`
  );
}

/**
 * May the daemon restart itself into a new version now? Checked in this order: a manual pause,
 * an open circuit, the cooldown since the last restart, then the window count. A window-full
 * answer means the circuit should open: the caller stores applyBlock(h, decision, now).
 */
export function decide(h: GuardHistory, p: GuardPolicy, now: number): GuardDecision {
  if (isPaused(h, now)) {
    const until = h.pausedUntil;
    return {
      allowed: false,
      reason: 'paused',
      until,
      message:
        until === null
          ? 'updates are paused; run `heph update resume` to resume'
          : `updates are paused until ${iso(until)}; run \`heph update resume\` to resume now`,
    };
  }
  const closesAt = circuitClosesAt(h, p);
  if (closesAt !== null && now < closesAt) {
    return { allowed: false, reason: 'circuit-open', until: closesAt, message: circuitMessage(p, closesAt) };
  }
  const cooling = cooldownUntil(h, p, now);
  if (cooling !== null) {
    return {
      allowed: false,
      reason: 'cooldown',
      until: cooling,
      message:
        `the last self-restart was ${humanDuration(now - (lastRestart(h) as number))} ago and ` +
        `restart.cooldown is ${formatDuration(p.cooldownMs)}, so the next one can happen in ` +
        `${humanDuration(cooling - now)}`,
    };
  }
  if (restartsInWindow(h, p, now) >= p.maxPerWindow) {
    const until = now + p.windowMs;
    return {
      allowed: false,
      reason: 'window-full',
      until,
      message: circuitMessage(p, until),
    };
  }
  return { allowed: true };
}

/** The history after a blocked attempt: a window-full block opens the circuit; others change nothing. */
export function applyBlock(h: GuardHistory, decision: GuardDecision, now: number): GuardHistory {
  if (decision.allowed || decision.reason !== 'window-full') return h;
  return { ...h, circuitOpenedAt: now };
}

/**
 * The history after a self-restart at `now`. Entries older than the window are dropped, but
 * never the latest one while its cooldown still matters (a cooldown longer than the window).
 */
export function recordRestart(h: GuardHistory, p: GuardPolicy, now: number): GuardHistory {
  const keepAfter = now - Math.max(p.windowMs, p.cooldownMs);
  const restarts = [...h.restarts.filter((t) => t > keepAfter), now].sort((a, b) => a - b);
  return { ...h, restarts };
}

/** Pause updates: until resumed, or for `forMs`. */
export function pause(h: GuardHistory, now: number, forMs?: number): GuardHistory {
  return { ...h, paused: true, pausedUntil: forMs === undefined ? null : now + forMs };
}

/**
 * The operator's "go ahead": clears every block, whatever its timestamps (docs/operations.md):
 * the pause, an open circuit, and the restart history behind the cooldown and the window count.
 * Keeping any of it would let a time recorded by a clock that was ahead block on after resume.
 */
export function resume(h: GuardHistory): GuardHistory {
  return { ...h, paused: false, pausedUntil: null, circuitOpenedAt: null, restarts: [] };
}

/**
 * The history with every recorded past event at or before `now`: a restart or a circuit opening
 * "in the future" was written by a clock that was ahead, and would block until that date. Such
 * times are clamped to now (they still count: the guard errs towards fewer restarts). A timed
 * pause's end is a future time by design and stays. Returns `h` itself when nothing changed.
 */
export function clampToNow(h: GuardHistory, now: number): GuardHistory {
  const ahead = (t: number) => t > now;
  if (!h.restarts.some(ahead) && !(h.circuitOpenedAt !== null && ahead(h.circuitOpenedAt))) return h;
  return {
    ...h,
    restarts: h.restarts.map((t) => Math.min(t, now)),
    circuitOpenedAt: h.circuitOpenedAt === null ? null : Math.min(h.circuitOpenedAt, now),
  };
}

/**
 * Time-driven changes: a timed pause that ended, a circuit a full window old. Returns `h` itself
 * when nothing changed, so the daemon can write state (and audit `update.resumed`) only on change.
 */
export function expire(h: GuardHistory, p: GuardPolicy, now: number): GuardHistory {
  let next = h;
  if (h.paused && h.pausedUntil !== null && now >= h.pausedUntil) {
    next = { ...next, paused: false, pausedUntil: null };
  }
  if (h.circuitOpenedAt !== null && !isCircuitOpen(h, p, now)) {
    next = { ...next, circuitOpenedAt: null };
  }
  return next;
}

/** The one thing an operator should do now, in one sentence, or null when nothing is needed. */
function recommend(
  h: GuardHistory,
  p: GuardPolicy,
  now: number,
  ctx: GuardContext | undefined,
): string | null {
  const closesAt = circuitClosesAt(h, p);
  if (closesAt !== null && now < closesAt) return circuitMessage(p, closesAt);
  if (isPaused(h, now)) {
    return h.pausedUntil === null
      ? 'updates are paused; run `heph update resume` to resume'
      : `updates are paused until ${iso(h.pausedUntil)}; run \`heph update resume\` to resume now`;
  }
  if (!ctx) return null;
  if (ctx.pendingRestart) {
    return ctx.supervisor === 'none'
      ? `${ctx.pendingRestart} is installed but hephd runs without a supervisor; restart it ` +
          '(or run `heph daemon install`) to use it'
      : `${ctx.pendingRestart} is installed and hephd restarts into it when the restart guard ` +
          'allows; run `heph daemon restart` to use it now';
  }
  if (ctx.candidate && ctx.mode !== 'auto') {
    return `${ctx.candidate} is available; run \`heph update apply\` to install it`;
  }
  return null;
}

/** The `guard` object of `heph status --json` (docs/cli.md "status"), with ISO timestamps. */
export function guardStatus(h: GuardHistory, p: GuardPolicy, now: number, ctx?: GuardContext): GuardStatus {
  const live = expire(h, p, now);
  const cooling = cooldownUntil(live, p, now);
  return {
    paused: live.paused,
    pausedUntil: live.paused && live.pausedUntil !== null ? iso(live.pausedUntil) : null,
    cooldownUntil: cooling === null ? null : iso(cooling),
    restartsInWindow: restartsInWindow(live, p, now),
    circuit: live.circuitOpenedAt === null ? 'closed' : 'open',
    recommendedAction: recommend(live, p, now, ctx),
  };
}
