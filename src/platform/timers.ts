// Timers for delays that config durations can reach (up to a year): Node's setTimeout fires after
// 1 ms (with a TimeoutOverflowWarning) for any delay past 2^31-1 ms, about 24.8 days.

/** The longest delay setTimeout honours. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once after `ms`, however long, by re-arming in slices of at most MAX_TIMEOUT_MS.
 * Returns the function that cancels it. `unref` lets the process exit while it waits.
 */
export function setLongTimeout(fn: () => void, ms: number, opts: { unref?: boolean } = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = (left: number) => {
    const slice = Math.min(Math.max(0, left), MAX_TIMEOUT_MS);
    timer = setTimeout(() => {
      if (cancelled) return;
      if (left > MAX_TIMEOUT_MS) arm(left - MAX_TIMEOUT_MS);
      else fn();
    }, slice);
    if (opts.unref) timer.unref();
  };
  arm(ms);
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
