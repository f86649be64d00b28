import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BACKOFF_BASE_MS,
  BACKOFF_FLOOR_MS,
  backoffDelay,
  delayAfterFailure,
  FIRST_CHECK_MIN_MS,
  firstCheckDelay,
  MAX_SERVER_WAIT_MS,
  nextCheckDelay,
  type Rand,
  RESET_SPREAD_MS,
  startDelay,
} from '../../src/daemon/schedule.js';
import { type Day, daemonDay, perMinute as fleetPerMinute } from '../helpers/fleet.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.parse('2025-06-01T00:00:00Z');

const fixed =
  (x: number): Rand =>
  () =>
    x;
const LOW = fixed(0);
const HIGH = fixed(1 - 2 ** -53);
const randArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }).map(fixed);

describe('firstCheckDelay', () => {
  it.each([
    ['6h interval, low draw', 6 * H, LOW, FIRST_CHECK_MIN_MS],
    ['6h interval, high draw: the whole interval', 6 * H, HIGH, 6 * H],
    ['6h interval, middle', 6 * H, fixed(0.5), 3 * H],
    ['5m interval stays within the interval', 5 * M, HIGH, 5 * M],
  ])('%s', (_name, interval, rand, expected) => {
    expect(firstCheckDelay(interval, rand)).toBe(expected);
  });

  it('with jitter: within [30s, interval × (1 + jitter)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5 * M, max: 30 * 24 * H }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        randArb,
        (interval, jitter, rand) => {
          const d = firstCheckDelay(interval, rand, jitter);
          return d >= FIRST_CHECK_MIN_MS && d <= Math.round(interval * (1 + jitter));
        },
      ),
    );
  });

  it('is always within [30s, interval]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5 * M, max: 30 * 24 * H }), randArb, (interval, rand) => {
        const d = firstCheckDelay(interval, rand);
        return d >= FIRST_CHECK_MIN_MS && d <= interval;
      }),
    );
  });
});

describe('nextCheckDelay', () => {
  it.each([
    [6 * H, 0.1, LOW, 6 * H - 36 * M],
    [6 * H, 0.1, fixed(0.5), 6 * H],
    [6 * H, 0.1, HIGH, 6 * H + 36 * M],
    [6 * H, 0, HIGH, 6 * H],
    [H, 0.5, LOW, 30 * M],
  ])('interval %d, jitter %d', (interval, jitter, rand, expected) => {
    expect(nextCheckDelay(interval, jitter, rand)).toBe(expected);
  });

  it('stays within interval ± jitter × interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5 * M, max: 7 * 24 * H }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        randArb,
        (interval, jitter, rand) => {
          const d = nextCheckDelay(interval, jitter, rand);
          return Math.abs(d - interval) <= interval * jitter + 1;
        },
      ),
    );
  });
});

describe('startDelay', () => {
  it.each<[string, number | null, number, Rand, number]>([
    ['never checked: the first-check spread', null, T0, LOW, FIRST_CHECK_MIN_MS],
    ['checked 1h ago on a 6h cycle: keeps its phase', T0 - H, T0, HIGH, 5 * H],
    ['checked 10s ago (a self-update restart): a full period', T0 - 10 * S, T0, HIGH, 6 * H - 10 * S],
    ['due in 20s: not sooner than the minimum', T0 - 6 * H + 20 * S, T0, LOW, FIRST_CHECK_MIN_MS],
    ['overdue after a long power-off', T0 - 3 * 24 * H, T0, HIGH, 6 * H],
    ['a last check in the future (clock set back)', T0 + H, T0, LOW, FIRST_CHECK_MIN_MS],
  ])('%s', (_name, last, now, rand, expected) => {
    expect(startDelay(6 * H, rand, last, now)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('the cap doubles per failure from a minute and stops at the interval', () => {
    const caps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 10_000].map((n) => backoffDelay(n, 6 * H, HIGH));
    expect(caps).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360].map((m) => m * M));
  });

  it('the cap never exceeds a short interval', () => {
    expect(backoffDelay(10, 5 * M, HIGH)).toBe(5 * M);
  });

  it('full jitter: a draw near 0 still waits the floor, a middle draw half the cap', () => {
    expect(backoffDelay(3, 6 * H, LOW)).toBe(BACKOFF_FLOOR_MS);
    expect(backoffDelay(3, 6 * H, fixed(0.5))).toBe(2 * M);
  });

  it('zero or negative failure counts are treated as the first failure', () => {
    expect(backoffDelay(0, 6 * H, HIGH)).toBe(BACKOFF_BASE_MS);
    expect(backoffDelay(-3, 6 * H, HIGH)).toBe(BACKOFF_BASE_MS);
  });

  it('is within [floor, min(interval, base × 2^(n-1))] and finite', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 5 * M, max: 30 * 24 * H }),
        randArb,
        (n, interval, rand) => {
          const d = backoffDelay(n, interval, rand);
          const cap = Math.min(interval, BACKOFF_BASE_MS * 2 ** Math.min(n - 1, 40));
          return Number.isFinite(d) && d >= BACKOFF_FLOOR_MS && d <= Math.max(cap, BACKOFF_FLOOR_MS);
        },
      ),
    );
  });
});

describe('delayAfterFailure', () => {
  it('without a server time, it is the backoff', () => {
    expect(delayAfterFailure(2, 6 * H, HIGH, null, T0)).toBe(2 * M);
  });

  it('honours a Retry-After longer than the backoff, plus a spread', () => {
    expect(delayAfterFailure(1, 6 * H, LOW, T0 + 30 * M, T0)).toBe(30 * M);
    expect(delayAfterFailure(1, 6 * H, fixed(0.5), T0 + 30 * M, T0)).toBe(30 * M + RESET_SPREAD_MS / 2);
  });

  it('keeps the backoff when it is longer than the server time', () => {
    expect(delayAfterFailure(6, 6 * H, HIGH, T0 + 5 * S, T0)).toBe(32 * M);
  });

  it('ignores a server time in the past', () => {
    expect(delayAfterFailure(1, 6 * H, HIGH, T0 - H, T0)).toBe(M);
  });

  it('caps a far-future reset at a day', () => {
    expect(delayAfterFailure(1, 6 * H, HIGH, T0 + 30 * 24 * H, T0)).toBe(MAX_SERVER_WAIT_MS);
  });

  it('is never sooner than the server asked (within the cap), never later than the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 5 * M, max: 7 * 24 * H }),
        fc.integer({ min: -H, max: 3 * 24 * H }),
        randArb,
        (n, interval, retryIn, rand) => {
          const d = delayAfterFailure(n, interval, rand, T0 + retryIn, T0);
          return (
            d >= Math.min(retryIn, MAX_SERVER_WAIT_MS) &&
            d <= Math.max(MAX_SERVER_WAIT_MS, backoffDelay(n, interval, rand))
          );
        },
      ),
    );
  });
});

// ---- fleet simulations on a virtual clock ----------------------------------------------------

const FLEET = 10_000;

/** Requests per minute over [0, DAY) for the fleet; `day(rand)` lists one daemon's request times. */
const perMinute = (day: Day) => fleetPerMinute(day, { fleet: FLEET, seedBase: 1_000 });

function peakOverMean(buckets: number[]): number {
  const mean = buckets.reduce((a, b) => a + b, 0) / buckets.length;
  return Math.max(...buckets) / mean;
}

/** A healthy daemon's day: start delay, then a jittered period after each check. */
const healthyDay = (interval: number, jitter: number, lastCheckAt: (rand: Rand) => number | null) =>
  daemonDay({ interval, jitter, lastCheckAt });

describe('fleet of 10,000 daemons', () => {
  it('a fleet rebooting together keeps its phases: per-minute peak/mean stays near 1', () => {
    // Each machine last checked at a random point of its cycle (it has been running a while).
    for (const [interval, limit] of [
      [H, 1.5],
      [6 * H, 2],
    ] as const) {
      const buckets = perMinute(healthyDay(interval, 0.1, (rand) => -rand() * interval));
      expect(peakOverMean(buckets)).toBeLessThan(limit);
    }
  });

  it('the measure does catch a stampede: daemons without spread all check in the same minute', () => {
    const buckets = perMinute(() => Array.from({ length: 4 }, (_, k) => k * 6 * H));
    expect(peakOverMean(buckets)).toBeGreaterThan(100);
  });

  it('a fleet installed in the same minute spreads its first checks over the whole interval', () => {
    const buckets = perMinute(healthyDay(6 * H, 0.1, () => null));
    // Every first check lands within the first (jittered) period, and day 1 is within 1.2× of the
    // ideal fleet's peak/mean (each machine exactly every 6 h at a random phase, same seeds):
    // what is left is counting noise. With the old 15-minute spread it was ~24.
    const firstRound = buckets.slice(0, (6.6 * H) / M).reduce((a, b) => a + b, 0);
    expect(firstRound).toBeGreaterThanOrEqual(FLEET);
    const ideal = perMinute((rand) => {
      const phase = rand() * 6 * H;
      return [0, 1, 2, 3].map((k) => phase + k * 6 * H);
    });
    expect(peakOverMean(buckets)).toBeLessThanOrEqual(1.2 * peakOverMean(ideal));
    expect(peakOverMean(buckets)).toBeLessThan(1.8);
  });

  it('after a one-hour forge outage, retries and recovery do not stampede', () => {
    const interval = 6 * H;
    const outage = { from: 2 * H, to: 3 * H };
    const buckets = perMinute(
      daemonDay({ interval, jitter: 0.1, lastCheckAt: (rand) => -rand() * interval, outage }),
    );
    // The machines whose check fell in the outage retry with growing, fully jittered waits:
    // the forge sees more load while it is down, but a bounded amount, and no spike when it
    // comes back (the busiest minute after recovery is no busier than the outage itself);
    // within two hours the rate is back to normal.
    const mean = buckets.reduce((a, b) => a + b, 0) / buckets.length;
    const during = buckets.slice(outage.from / M, outage.to / M);
    const after = buckets.slice(outage.to / M, outage.to / M + 60);
    const later = buckets.slice(outage.to / M + 60, outage.to / M + 120);
    expect(Math.max(...during) / mean).toBeLessThan(10);
    expect(Math.max(...after)).toBeLessThanOrEqual(Math.max(...during));
    expect(later.reduce((a, b) => a + b, 0) / later.length / mean).toBeLessThan(1.5);
  });
});
