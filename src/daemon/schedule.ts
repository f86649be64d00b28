// When the daemon next asks the forge: the first check after start, the jittered period, and
// backoff after failures. Pure: randomness and time come in, so a virtual-clock fleet can run it.

/** Uniform in [0, 1), like Math.random; tests pass a seeded generator. */
export type Rand = () => number;

/**
 * Least wait before the first check after a start: lets the network and DNS come up on a
 * machine that just booted, and keeps a crash-looping daemon from hammering the forge.
 */
export const FIRST_CHECK_MIN_MS = 30_000;

/** First retry waits up to a minute: long enough for a forge blip to pass, short enough to notice. */
export const BACKOFF_BASE_MS = 60_000;

/**
 * No retry sooner than this. Full jitter can draw ~0, and a daemon retrying a dead forge in
 * milliseconds only burns its rate limit; 10 s is well above a connect timeout's worth of load.
 */
export const BACKOFF_FLOOR_MS = 10_000;

/** 2^20 minutes is far past any interval; stops 2 ** failures overflowing to Infinity. */
const MAX_BACKOFF_DOUBLINGS = 20;

/**
 * A server's Retry-After or rate-limit reset is honoured up to a day. A reset far beyond that is
 * a broken header or clock, and a daemon must not fall silent for weeks because of it.
 */
export const MAX_SERVER_WAIT_MS = 24 * 3_600_000;

/**
 * Machines sharing a token (or a NAT address) share one rate-limit reset; without a spread they
 * would all retry in the same second it resets and exhaust the new allowance at once.
 */
export const RESET_SPREAD_MS = 60_000;

function uniform(lo: number, hi: number, rand: Rand): number {
  return lo + rand() * (hi - lo);
}

/**
 * A reload that changes where releases come from (forge.*, update.channel, update.pin) asks again
 * within this spread rather than an interval later: soon, but not a whole fleet reconfigured by
 * the same push in the same second.
 */
export const SOURCE_CHANGE_SPREAD_MS = 60_000;

/** The delay before the check that follows such a reload: uniform in (0, min(spread, interval)]. */
export function sourceChangeDelay(intervalMs: number, rand: Rand): number {
  return Math.max(1, uniform(0, Math.min(SOURCE_CHANGE_SPREAD_MS, intervalMs), rand));
}

/**
 * Delay before the first check of a daemon that has never checked (or is overdue): a random
 * phase over the whole period, at least FIRST_CHECK_MIN_MS. Machines started together (a fleet
 * rollout, a rack power-cycle) then load the forge from the first day as evenly as a fleet that
 * has run for weeks (bench/fleet: day-1 peak/mean per minute 24.9 with the old 15-minute spread).
 *
 * The phase is drawn from the equilibrium distribution of the jittered period (a renewal
 * process's stationary first arrival): a period X drawn with probability proportional to its
 * length, then a uniform point within it. With jitter 0 that is uniform in [0, interval]; with
 * jitter it also smooths the seam where the first and second rounds overlap. A person who wants
 * an answer at once runs `heph update check` or POST /v1/update/check.
 */
export function firstCheckDelay(intervalMs: number, rand: Rand, jitter = 0): number {
  const lo = intervalMs * (1 - jitter);
  const hi = intervalMs * (1 + jitter);
  const period = Math.sqrt(lo * lo + rand() * (hi * hi - lo * lo)); // density ∝ length
  return Math.round(Math.max(FIRST_CHECK_MIN_MS, rand() * period));
}

/**
 * Delay after a successful check: the interval ± jitter × interval, uniform. The jitter keeps
 * machines that happen to line up from staying lined up (update.jitter, 0..0.5).
 */
export function nextCheckDelay(intervalMs: number, jitter: number, rand: Rand): number {
  const spread = intervalMs * jitter;
  return Math.round(uniform(intervalMs - spread, intervalMs + spread, rand));
}

/**
 * Delay before the first check after a restart, keeping this machine's place in the cycle.
 * A daemon that checked before (lastCheckAt from state.json) waits out the rest of its period,
 * so a fleet restarting together (a self-update, a host reboot) keeps the random phases it has
 * and does not bunch up. A daemon that never checked, or is overdue, takes firstCheckDelay.
 */
export function startDelay(
  intervalMs: number,
  rand: Rand,
  lastCheckAt: number | null,
  now: number,
  jitter = 0,
): number {
  if (lastCheckAt === null || lastCheckAt > now) return firstCheckDelay(intervalMs, rand, jitter);
  const due = lastCheckAt + intervalMs - now;
  return due >= FIRST_CHECK_MIN_MS ? due : firstCheckDelay(intervalMs, rand, jitter);
}

/**
 * Delay after the `failures`-th consecutive failure (1 = the first): exponential backoff with
 * full jitter (uniform in [0, cap], cap = BACKOFF_BASE_MS doubling per failure), so a fleet
 * that failed together does not retry together. The cap stops at the interval: a failing
 * daemon never checks less often than a healthy one. Never below BACKOFF_FLOOR_MS.
 */
export function backoffDelay(failures: number, intervalMs: number, rand: Rand): number {
  const doublings = Math.min(Math.max(failures, 1) - 1, MAX_BACKOFF_DOUBLINGS);
  const cap = Math.max(BACKOFF_FLOOR_MS, Math.min(intervalMs, BACKOFF_BASE_MS * 2 ** doublings));
  return Math.round(Math.max(BACKOFF_FLOOR_MS, rand() * cap));
}

/**
 * Delay after a failed check: the backoff, or longer when the server named a time (Retry-After,
 * X-RateLimit-Reset as epoch ms in `retryAt`), then spread by up to RESET_SPREAD_MS; the
 * server's wait counts for at most MAX_SERVER_WAIT_MS.
 */
export function delayAfterFailure(
  failures: number,
  intervalMs: number,
  rand: Rand,
  retryAt: number | null,
  now: number,
): number {
  const backoff = backoffDelay(failures, intervalMs, rand);
  if (retryAt === null || retryAt <= now) return backoff;
  const serverWait = Math.min(retryAt - now + Math.round(rand() * RESET_SPREAD_MS), MAX_SERVER_WAIT_MS);
  return Math.max(backoff, serverWait);
}
