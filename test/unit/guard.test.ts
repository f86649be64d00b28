import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import {
  applyBlock,
  clampToNow,
  decide,
  expire,
  type GuardContext,
  type GuardPolicy,
  guardPolicyFromConfig,
  guardStatus,
  pause,
  recordRestart,
  resume,
} from '../../src/update/guard.js';
import type { GuardHistory } from '../../src/update/state.js';

const T0 = Date.parse('2025-06-01T00:00:00Z');
const M = 60_000;
const H = 60 * M;
const P: GuardPolicy = { cooldownMs: 15 * M, maxPerWindow: 3, windowMs: 24 * H };
const EMPTY: GuardHistory = { restarts: [], circuitOpenedAt: null, paused: false, pausedUntil: null };
const iso = (ms: number) => new Date(ms).toISOString();

function hist(h: Partial<GuardHistory>): GuardHistory {
  return { ...EMPTY, ...h };
}

describe('guardPolicyFromConfig', () => {
  it('reads restart.*', () => {
    const c = configSchema.parse({ restart: { cooldown: '5m', max_per_window: 2, window: '1h' } });
    expect(guardPolicyFromConfig(c)).toEqual({ cooldownMs: 5 * M, maxPerWindow: 2, windowMs: H });
  });
});

describe('decide', () => {
  it.each<[string, GuardHistory, number, string, number | null]>([
    ['nothing recorded', EMPTY, T0, 'allowed', null],
    ['paused until resumed', hist({ paused: true }), T0, 'paused', null],
    ['paused for an hour', hist({ paused: true, pausedUntil: T0 + H }), T0, 'paused', T0 + H],
    ['a timed pause that ended', hist({ paused: true, pausedUntil: T0 + H }), T0 + H, 'allowed', null],
    ['circuit open', hist({ circuitOpenedAt: T0 }), T0 + H, 'circuit-open', T0 + 24 * H],
    ['circuit a full window old closes', hist({ circuitOpenedAt: T0 }), T0 + 24 * H, 'allowed', null],
    ['pause is reported before the circuit', hist({ paused: true, circuitOpenedAt: T0 }), T0, 'paused', null],
    [
      'circuit is reported before the cooldown',
      hist({ circuitOpenedAt: T0, restarts: [T0] }),
      T0 + M,
      'circuit-open',
      T0 + 24 * H,
    ],
    ['cooldown after a restart', hist({ restarts: [T0] }), T0 + 10 * M, 'cooldown', T0 + 15 * M],
    ['cooldown over', hist({ restarts: [T0] }), T0 + 15 * M, 'allowed', null],
    ['two in the window: a third is fine', hist({ restarts: [T0, T0 + H] }), T0 + 2 * H, 'allowed', null],
    [
      'three in the window: the fourth is blocked',
      hist({ restarts: [T0, T0 + H, T0 + 2 * H] }),
      T0 + 3 * H,
      'window-full',
      T0 + 27 * H,
    ],
    [
      'the oldest is still in the window 1 ms before it leaves',
      hist({ restarts: [T0, T0 + H, T0 + 2 * H] }),
      T0 + 24 * H - 1,
      'window-full',
      T0 + 48 * H - 1,
    ],
    [
      'the oldest has left the window',
      hist({ restarts: [T0, T0 + H, T0 + 2 * H] }),
      T0 + 24 * H,
      'allowed',
      null,
    ],
  ])('%s', (_name, h, now, expected, until) => {
    const d = decide(h, P, now);
    if (expected === 'allowed') {
      expect(d).toEqual({ allowed: true });
      return;
    }
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    expect(d.reason).toBe(expected);
    expect(d.until).toBe(until);
    expect(d.message).not.toBe('');
  });

  it.each<[string, GuardHistory, number, string]>([
    ['paused', hist({ paused: true }), T0, 'updates are paused; run `heph update resume` to resume'],
    [
      'timed pause',
      hist({ paused: true, pausedUntil: T0 + H }),
      T0,
      'updates are paused until 2025-06-01T01:00:00.000Z; run `heph update resume` to resume now',
    ],
    [
      'cooldown',
      hist({ restarts: [T0] }),
      T0 + 10 * M,
      'the last self-restart was 10m ago and restart.cooldown is 15m, so the next one can happen in 5m',
    ],
    [
      'window full',
      hist({ restarts: [T0, T0 + H, T0 + 2 * H] }),
      T0 + 3 * H,
      '3 self-restarts within 24h opened the circuit; check `heph update history`, then run ' +
        '`heph update resume` to allow updates again (it closes by itself at 2025-06-02T03:00:00.000Z)',
    ],
  ])('message: %s', (_name, h, now, message) => {
    const d = decide(h, P, now);
    expect(d.allowed ? null : d.message).toBe(message);
  });
});

describe('history changes', () => {
  it('a window-full block opens the circuit; other blocks change nothing', () => {
    const full = hist({ restarts: [T0, T0 + H, T0 + 2 * H] });
    const opened = applyBlock(full, decide(full, P, T0 + 3 * H), T0 + 3 * H);
    expect(opened.circuitOpenedAt).toBe(T0 + 3 * H);
    expect(decide(opened, P, T0 + 25 * H)).toMatchObject({ reason: 'circuit-open', until: T0 + 27 * H });
    const cooling = hist({ restarts: [T0] });
    expect(applyBlock(cooling, decide(cooling, P, T0 + M), T0 + M)).toBe(cooling);
    expect(applyBlock(EMPTY, { allowed: true }, T0)).toBe(EMPTY);
  });

  it('recordRestart appends and drops entries older than the window', () => {
    const h = recordRestart(hist({ restarts: [T0 - 25 * H, T0 - 2 * H] }), P, T0);
    expect(h.restarts).toEqual([T0 - 2 * H, T0]);
  });

  it('recordRestart keeps the last restart while a longer cooldown needs it', () => {
    const p = { cooldownMs: 48 * H, maxPerWindow: 3, windowMs: H };
    const h = recordRestart(EMPTY, p, T0);
    expect(decide(h, p, T0 + 30 * H)).toMatchObject({ reason: 'cooldown', until: T0 + 48 * H });
    expect(recordRestart(h, p, T0 + 30 * H).restarts).toEqual([T0, T0 + 30 * H]);
  });

  it('pause with and without an end', () => {
    expect(pause(EMPTY, T0)).toEqual(hist({ paused: true, pausedUntil: null }));
    expect(pause(EMPTY, T0, 2 * H)).toEqual(hist({ paused: true, pausedUntil: T0 + 2 * H }));
  });

  it.each<[string, GuardHistory, number]>([
    ['a pause and a cooldown', hist({ paused: true, pausedUntil: T0 + H, restarts: [T0 - M] }), T0],
    ['a restart a year in the future (a clock that was ahead)', hist({ restarts: [T0 + 365 * 24 * H] }), T0],
    ['a circuit opened in the future', hist({ circuitOpenedAt: T0 + 30 * 24 * H, restarts: [T0] }), T0],
    ['a full window', hist({ restarts: [T0 - 3 * H, T0 - 2 * H, T0 - H] }), T0],
  ])('resume clears every block, whatever its timestamps: %s', (_, h, now) => {
    expect(decide(h, P, now).allowed).toBe(false);
    expect(resume(h)).toEqual(EMPTY);
    expect(decide(resume(h), P, now)).toEqual({ allowed: true });
  });

  it('resume closes an open circuit and forgets the restarts that opened it', () => {
    const full = hist({ restarts: [T0, T0 + H, T0 + 2 * H] });
    const opened = applyBlock(full, decide(full, P, T0 + 3 * H), T0 + 3 * H);
    const resumed = resume(opened);
    expect(resumed).toEqual(EMPTY);
    expect(decide(resumed, P, T0 + 3 * H)).toEqual({ allowed: true });
  });

  it.each<[string, GuardHistory, number, GuardHistory | 'same']>([
    ['nothing to do', hist({ restarts: [T0] }), T0 + H, 'same'],
    ['a running timed pause stays', hist({ paused: true, pausedUntil: T0 + H }), T0, 'same'],
    ['an open-ended pause stays', hist({ paused: true }), T0 + 100 * H, 'same'],
    ['a timed pause ends', hist({ paused: true, pausedUntil: T0 + H }), T0 + H, EMPTY],
    ['a young circuit stays open', hist({ circuitOpenedAt: T0 }), T0 + 23 * H, 'same'],
    ['a circuit a full window old closes', hist({ circuitOpenedAt: T0 }), T0 + 24 * H, EMPTY],
    [
      'a restart after opening delays the close',
      hist({ circuitOpenedAt: T0, restarts: [T0 + 2 * H] }),
      T0 + 24 * H,
      'same',
    ],
  ])('expire: %s', (_name, h, now, expected) => {
    const after = expire(h, P, now);
    if (expected === 'same') expect(after).toBe(h);
    else expect(after).toEqual(expected);
  });
});

describe('guardStatus', () => {
  it('reports the fields of `heph status --json` with ISO times', () => {
    const h = hist({ restarts: [T0 - 30 * H, T0 - 2 * H, T0 - 5 * M] });
    expect(guardStatus(h, P, T0)).toEqual({
      paused: false,
      pausedUntil: null,
      cooldownUntil: iso(T0 + 10 * M),
      restartsInWindow: 2,
      circuit: 'closed',
      recommendedAction: null,
    });
  });

  it('an expired pause and an old circuit read as resumed and closed', () => {
    const h = hist({ paused: true, pausedUntil: T0 - 1, circuitOpenedAt: T0 - 25 * H });
    expect(guardStatus(h, P, T0)).toMatchObject({ paused: false, pausedUntil: null, circuit: 'closed' });
  });

  it.each<[string, GuardHistory, GuardContext | undefined, string | null]>([
    [
      'circuit open',
      hist({ circuitOpenedAt: T0 - H }),
      { mode: 'auto' },
      '3 self-restarts within 24h opened the circuit; check `heph update history`, then run ' +
        '`heph update resume` to allow updates again (it closes by itself at 2025-06-01T23:00:00.000Z)',
    ],
    [
      'paused for a while',
      hist({ paused: true, pausedUntil: T0 + 2 * H }),
      { mode: 'auto', candidate: '2.1.0' },
      'updates are paused until 2025-06-01T02:00:00.000Z; run `heph update resume` to resume now',
    ],
    [
      'paused until resumed',
      hist({ paused: true }),
      undefined,
      'updates are paused; run `heph update resume` to resume',
    ],
    [
      'installed, no supervisor',
      EMPTY,
      { mode: 'auto', pendingRestart: '2.1.0', supervisor: 'none' },
      '2.1.0 is installed but hephd runs without a supervisor; restart it (or run `heph daemon install`) to use it',
    ],
    [
      'installed, supervised, waiting for the guard',
      hist({ restarts: [T0 - M] }),
      { mode: 'auto', pendingRestart: '2.1.0', supervisor: 'systemd' },
      '2.1.0 is installed and hephd restarts into it when the restart guard allows; run `heph daemon restart` to use it now',
    ],
    [
      'notify mode with a candidate',
      EMPTY,
      { mode: 'notify', candidate: '2.1.0' },
      '2.1.0 is available; run `heph update apply` to install it',
    ],
    ['auto mode takes care of a candidate', EMPTY, { mode: 'auto', candidate: '2.1.0' }, null],
    ['nothing to do', EMPTY, { mode: 'notify', candidate: null }, null],
    ['no context', EMPTY, undefined, null],
  ])('recommendedAction: %s', (_name, h, ctx, action) => {
    expect(guardStatus(h, P, T0, ctx).recommendedAction).toBe(action);
  });
});

describe('guard: properties', () => {
  // Minute granularity keeps counterexamples readable and shrinking quick.
  const policyArb = fc.record({
    cooldownMs: fc.integer({ min: 0, max: 6 * 60 }).map((m) => m * M),
    maxPerWindow: fc.integer({ min: 1, max: 5 }),
    windowMs: fc.integer({ min: 1, max: 48 * 60 }).map((m) => m * M),
  });
  // Candidate arrival times over a few days, sorted: bursts and gaps both occur.
  const arrivalsArb = fc
    .array(fc.integer({ min: 0, max: 96 * 60 }), { minLength: 1, maxLength: 40 })
    .map((ts) => ts.sort((a, b) => a - b).map((t) => T0 + t * M));

  /** The daemon's loop, reduced to the guard: expire, decide, then record or apply the block. */
  function run(p: GuardPolicy, arrivals: number[]): number[] {
    let h = EMPTY;
    const allowed: number[] = [];
    for (const t of arrivals) {
      h = expire(h, p, t);
      const d = decide(h, p, t);
      if (d.allowed) {
        h = recordRestart(h, p, t);
        allowed.push(t);
      } else {
        h = applyBlock(h, d, t);
      }
    }
    return allowed;
  }

  // Plain boolean predicates: an expect() per step makes shrinking a failure take minutes.
  it('never more than maxPerWindow restarts in any window, never two within the cooldown', () => {
    fc.assert(
      fc.property(policyArb, arrivalsArb, (p, arrivals) => {
        const allowed = run(p, arrivals);
        return allowed.every(
          (start, i) =>
            allowed.filter((t) => t >= start && t < start + p.windowMs).length <= p.maxPerWindow &&
            (i === 0 || start - allowed[i - 1]! >= p.cooldownMs),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('once the circuit opens, nothing restarts until a full window has passed', () => {
    fc.assert(
      fc.property(policyArb, arrivalsArb, (p, arrivals) => {
        let h = EMPTY;
        for (const t of arrivals) {
          h = expire(h, p, t);
          const openedAt = h.circuitOpenedAt;
          const d = decide(h, p, t);
          if (openedAt !== null && d.allowed) return false;
          h = d.allowed ? recordRestart(h, p, t) : applyBlock(h, d, t);
          if (openedAt !== null && t < openedAt + p.windowMs && h.circuitOpenedAt !== openedAt) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('a steady stream of candidates keeps restarting after the circuit closes (no stuck fleet)', () => {
    const p: GuardPolicy = { cooldownMs: 15 * M, maxPerWindow: 3, windowMs: 24 * H };
    const hourly = Array.from({ length: 24 * 7 }, (_, i) => T0 + i * H);
    const allowed = run(p, hourly);
    // 3 restarts, then a day of open circuit, then 3 more, ...: restarts keep coming all week.
    expect(allowed.length).toBeGreaterThanOrEqual(9);
    expect(allowed.at(-1)!).toBeGreaterThan(T0 + 4 * 24 * H);
  });
});

describe('clampToNow: times a clock that was ahead wrote', () => {
  const YEAR = 365 * 24 * H;
  it.each<[string, GuardHistory, GuardHistory | 'same']>([
    ['nothing in the future', hist({ restarts: [T0 - H], circuitOpenedAt: T0 - H }), 'same'],
    [
      'a restart a year ahead counts from now',
      hist({ restarts: [T0 - H, T0 + YEAR] }),
      hist({ restarts: [T0 - H, T0] }),
    ],
    [
      'a circuit opened a year ahead opened now',
      hist({ circuitOpenedAt: T0 + YEAR }),
      hist({ circuitOpenedAt: T0 }),
    ],
    ['a timed pause ends when it says', hist({ paused: true, pausedUntil: T0 + YEAR }), 'same'],
  ])('%s', (_, h, want) => {
    const got = clampToNow(h, T0);
    if (want === 'same') expect(got).toBe(h);
    else expect(got).toEqual(want);
  });

  it('a restart a year ahead blocks for one cooldown from now, not until that date', () => {
    const h = clampToNow(hist({ restarts: [T0 + YEAR] }), T0);
    expect(decide(h, P, T0)).toMatchObject({ allowed: false, reason: 'cooldown', until: T0 + P.cooldownMs });
    expect(decide(h, P, T0 + P.cooldownMs)).toEqual({ allowed: true });
  });
});
