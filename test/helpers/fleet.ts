// A fleet of daemons on a virtual clock, for the scheduler's fleet properties
// (test/unit/schedule.test.ts) and the fleet benchmark: each daemon's check times over a day by
// the real scheduler (src/daemon/schedule.ts), and the fleet's requests per minute.
import { delayAfterFailure, nextCheckDelay, type Rand, startDelay } from '../../src/daemon/schedule.js';
import { seeded } from './random.js';

const M = 60_000;
export const DAY = 24 * 60 * M;

/** One daemon's request times over the simulated day; `i` is its index in the fleet. */
export type Day = (rand: Rand, i: number) => number[];

/**
 * A daemon's day from a start at 0 with the real scheduler: the start delay (lastCheckAt null =
 * never checked before), then a jittered interval after each check; a check inside `outage`
 * fails and the daemon backs off instead.
 */
export function daemonDay(o: {
  interval: number;
  jitter: number;
  lastCheckAt: (rand: Rand) => number | null;
  outage?: { from: number; to: number };
}): Day {
  return (rand) => {
    const out: number[] = [];
    let t = startDelay(o.interval, rand, o.lastCheckAt(rand), 0, o.jitter);
    let failures = 0;
    while (t < DAY) {
      out.push(t);
      const failed = o.outage !== undefined && t >= o.outage.from && t < o.outage.to;
      failures = failed ? failures + 1 : 0;
      t += failed
        ? delayAfterFailure(failures, o.interval, rand, null, t)
        : nextCheckDelay(o.interval, o.jitter, rand);
    }
    return out;
  };
}

/**
 * Requests per minute over [from, to) of virtual time for `fleet` daemons; daemon i draws from
 * seeded(seedBase + i), so every scenario sees the same machines drawing the same numbers.
 */
export function perMinute(
  day: Day,
  o: { fleet: number; seedBase: number; from?: number; to?: number },
): number[] {
  const from = o.from ?? 0;
  const to = o.to ?? DAY;
  const bins = new Array<number>((to - from) / M).fill(0);
  for (let i = 0; i < o.fleet; i++) {
    for (const t of day(seeded(o.seedBase + i), i)) {
      if (t >= from && t < to) bins[Math.floor((t - from) / M)]!++;
    }
  }
  return bins;
}
