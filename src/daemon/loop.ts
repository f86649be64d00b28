// The poll loop's timing: when the next check runs (first check, interval with jitter, backoff
// honouring the server's retryAt), one check at a time (a request "check now" joins a running one).
// Stopping aborts a running check's signal: the check decides what it may abandon.
import type { Clock } from '../platform/deps.js';
import { delayAfterFailure, nextCheckDelay, type Rand, startDelay } from './schedule.js';

/**
 * setTimeout fires at once for delays past 2^31-1 ms (~24.8 days), and intervals may be longer:
 * longer waits are taken in slices and re-armed until the due time.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What one check reports to the loop: success, or a failure with the server's retryAt (epoch ms). */
export type PollOutcome = { ok: true } | { ok: false; retryAt: number | null };

export interface PollerOptions {
  clock: Clock;
  timers?: Timers;
  rand?: Rand;
  intervalMs: number;
  jitter: number;
  /** HEPH_DEV_SCHEDULE_SCALE: multiplies every delay (tests and demos poll in seconds). */
  scale?: number;
  /**
   * The check itself; must not throw (a throw counts as a failure without retryAt). `signal`
   * aborts when the loop is stopped: a draining daemon does not wait for the forge.
   */
  check(signal: AbortSignal): Promise<PollOutcome>;
  /** Consecutive failures so far (the backoff grows with them). */
  failures(): number;
  /** Called whenever the next due time changes (status shows it). */
  onSchedule?(dueAt: number | null): void;
  onError?(e: unknown): void;
}

export interface Poller {
  /** Arms the first check, keeping the phase of `lastCheckAt` (epoch ms) when there is one. */
  start(lastCheckAt: number | null): void;
  /** Brings the next check forward to `delayMs` from now (scaled), unless it is due sooner. */
  soon(delayMs: number): void;
  /** Runs a check now, or joins the one running; re-arms the timer after it. */
  runNow(): Promise<PollOutcome>;
  /**
   * Epoch ms of the next check for people (status), never in the past: while a check runs, or
   * when the timer is late (a suspended machine), the next check is now. Null when stopped.
   */
  nextAt(): number | null;
  /** The time the armed timer is due, which may be past: the health check reads a stall from it. */
  due(): number | null;
  /** Whether a check is running. */
  busy(): boolean;
  /** No more timed checks; aborts a running check's signal and resolves when it has returned. */
  stop(): Promise<void>;
}

export function createPoller(opts: PollerOptions): Poller {
  const timers = opts.timers ?? realTimers;
  const rand = opts.rand ?? Math.random;
  const scale = opts.scale ?? 1;
  let handle: unknown = null;
  let dueAt: number | null = null;
  let running: Promise<PollOutcome> | null = null;
  let stopped = false;
  let abort = new AbortController();

  const setDue = (at: number | null) => {
    dueAt = at;
    opts.onSchedule?.(at);
  };

  const arm = (delayMs: number) => {
    if (handle !== null) timers.clear(handle);
    handle = null;
    if (stopped) return setDue(null);
    const at = opts.clock.now() + Math.max(0, Math.round(delayMs * scale));
    setDue(at);
    const tick = () => {
      handle = null;
      const left = at - opts.clock.now();
      if (left > 0) {
        handle = timers.set(tick, Math.min(left, MAX_TIMER_MS));
        return;
      }
      void runNow();
    };
    handle = timers.set(tick, Math.min(Math.max(0, at - opts.clock.now()), MAX_TIMER_MS));
  };

  const after = (r: PollOutcome) => {
    const now = opts.clock.now();
    if (r.ok) arm(nextCheckDelay(opts.intervalMs, opts.jitter, rand));
    else arm(delayAfterFailure(Math.max(1, opts.failures()), opts.intervalMs, rand, r.retryAt, now));
  };

  const runNow = (): Promise<PollOutcome> => {
    if (running) return running;
    if (handle !== null) timers.clear(handle);
    handle = null;
    running = (async () => {
      let r: PollOutcome;
      try {
        r = await opts.check(abort.signal);
      } catch (e) {
        opts.onError?.(e);
        r = { ok: false, retryAt: null };
      }
      try {
        after(r);
      } catch (e) {
        opts.onError?.(e);
      }
      return r;
    })().finally(() => {
      running = null;
    });
    return running;
  };

  return {
    start(lastCheckAt) {
      stopped = false;
      if (abort.signal.aborted) abort = new AbortController();
      // Elapsed real time counts 1/scale times in schedule time, so a scaled daemon keeps its phase too.
      const now = opts.clock.now();
      const virtualNow =
        lastCheckAt === null || lastCheckAt > now ? now : lastCheckAt + (now - lastCheckAt) / scale;
      arm(startDelay(opts.intervalMs, rand, lastCheckAt, virtualNow, opts.jitter));
    },
    soon(delayMs) {
      if (stopped || running) return; // a running check re-arms the timer when it ends
      const at = opts.clock.now() + Math.max(0, Math.round(delayMs * scale));
      if (dueAt === null || at < dueAt) arm(delayMs);
    },
    runNow,
    nextAt: () => (dueAt === null ? null : Math.max(dueAt, opts.clock.now())),
    due: () => dueAt,
    busy: () => running !== null,
    async stop() {
      stopped = true;
      if (handle !== null) timers.clear(handle);
      handle = null;
      setDue(null);
      abort.abort();
      if (running) await running.catch(() => {});
    },
  };
}
