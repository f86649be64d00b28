// The poll loop on a fake clock: first check, interval, backoff that honours retryAt, scaling,
// coalescing, long waits re-armed in slices, and stop.
import { describe, expect, it } from 'vitest';
import { type PollOutcome, createPoller, MAX_TIMER_MS, type Timers } from '../../src/daemon/loop.js';
import { BACKOFF_FLOOR_MS, FIRST_CHECK_MIN_MS, MAX_SERVER_WAIT_MS } from '../../src/daemon/schedule.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A virtual clock whose timers fire only when the test advances it. */
class FakeTime implements Timers {
  now = T0;
  private seq = 0;
  private pending: Array<{ id: number; at: number; fn: () => void }> = [];
  readonly armed: number[] = [];
  clock = { now: () => this.now };
  set = (fn: () => void, ms: number) => {
    this.armed.push(ms);
    const id = ++this.seq;
    this.pending.push({ id, at: this.now + ms, fn });
    return id;
  };
  clear = (h: unknown) => {
    this.pending = this.pending.filter((t) => t.id !== h);
  };
  timers(): number {
    return this.pending.length;
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const next = this.pending[0];
      if (!next || next.at > end) break;
      this.pending.shift();
      this.now = next.at;
      next.fn();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function setup(
  results: Array<PollOutcome | Error>,
  opts: { interval?: number; scale?: number; rand?: number } = {},
) {
  const t = new FakeTime();
  const calls: number[] = [];
  let failures = 0;
  const poller = createPoller({
    clock: t.clock,
    timers: t,
    rand: () => opts.rand ?? 0.5,
    intervalMs: opts.interval ?? 6 * H,
    jitter: 0.1,
    scale: opts.scale,
    failures: () => failures,
    async check() {
      calls.push(t.now);
      const r = results.shift() ?? { ok: true };
      if (r instanceof Error) {
        failures++;
        throw r;
      }
      failures = r.ok ? 0 : failures + 1;
      return r;
    },
  });
  return { t, calls, poller };
}

describe('the poll loop', () => {
  it('first check after the start delay, then every interval (jitter drawn at 0.5 = exact)', async () => {
    const { t, calls, poller } = setup([], { rand: 0 });
    poller.start(null);
    expect(poller.nextAt()).toBe(T0 + FIRST_CHECK_MIN_MS);
    await t.advance(FIRST_CHECK_MIN_MS - 1);
    expect(calls).toEqual([]);
    await t.advance(1);
    expect(calls).toEqual([T0 + FIRST_CHECK_MIN_MS]);
    expect(poller.nextAt()).toBe(T0 + FIRST_CHECK_MIN_MS + 6 * H * 0.9); // rand 0 → interval − 10 %
  });

  it('keeps its phase after a restart: last check an hour ago, 6h interval → next in 5h', async () => {
    const { poller } = setup([]);
    poller.start(T0 - H);
    expect(poller.nextAt()).toBe(T0 + 5 * H);
  });

  it('HEPH_DEV_SCHEDULE_SCALE multiplies every delay, phase included', async () => {
    const { t, calls, poller } = setup([{ ok: false, retryAt: T0 + 100 * S }], {
      scale: 0.01,
      interval: 5 * M,
      rand: 0,
    });
    poller.start(T0 - 36 * S); // 36 s real = 1 h scaled… of a 5 m interval: overdue → first-check delay
    expect(poller.nextAt()).toBe(T0 + FIRST_CHECK_MIN_MS * 0.01);
    await t.advance(FIRST_CHECK_MIN_MS * 0.01);
    expect(calls).toHaveLength(1);
    // retryAt 100 s ahead (server time): waits ≥ 100 s × 0.01 = 1 s of real time.
    expect(poller.nextAt()! - t.now).toBeGreaterThanOrEqual(1_000 - FIRST_CHECK_MIN_MS * 0.01);
  });

  it('after a failure it backs off, and a server-named retryAt wins over a shorter backoff', async () => {
    const { t, calls, poller } = setup([
      { ok: false, retryAt: null },
      { ok: false, retryAt: null },
      { ok: false, retryAt: 0 },
    ]);
    poller.start(null);
    await t.advance(poller.nextAt()! - t.now);
    expect(calls).toHaveLength(1);
    const first = poller.nextAt()! - t.now;
    expect(first).toBeGreaterThanOrEqual(BACKOFF_FLOOR_MS);
    expect(first).toBeLessThanOrEqual(60 * S);
    await t.advance(first);
    expect(calls).toHaveLength(2);
    const second = poller.nextAt()! - t.now;
    expect(second).toBeGreaterThanOrEqual(BACKOFF_FLOOR_MS);
    expect(second).toBeLessThanOrEqual(2 * 60 * S);
  });

  it('a 429 reset two hours away is waited out; one a month away counts for at most a day', async () => {
    const t = new FakeTime();
    const results: PollOutcome[] = [
      { ok: false, retryAt: T0 + 2 * H },
      { ok: false, retryAt: T0 + 30 * 24 * H },
    ];
    const p2 = createPoller({
      clock: t.clock,
      timers: t,
      rand: () => 0,
      intervalMs: 6 * H,
      jitter: 0.1,
      failures: () => 1,
      check: async () => results.shift() ?? { ok: true },
    });
    await p2.runNow();
    expect(p2.nextAt()).toBe(T0 + 2 * H);
    await p2.runNow();
    expect(p2.nextAt()! - t.now).toBe(MAX_SERVER_WAIT_MS);
  });

  it('a check that throws counts as a failure and the loop goes on', async () => {
    const { t, calls, poller } = setup([new Error('boom'), { ok: true }]);
    poller.start(null);
    await t.advance(poller.nextAt()! - t.now);
    expect(calls).toHaveLength(1);
    const retry = poller.nextAt()! - t.now;
    expect(retry).toBeGreaterThanOrEqual(BACKOFF_FLOOR_MS);
    expect(retry).toBeLessThanOrEqual(60 * S);
    await t.advance(retry);
    expect(calls).toHaveLength(2);
    expect(poller.nextAt()! - t.now).toBe(6 * H);
  });

  it('"check now" joins a running check instead of starting a second one', async () => {
    const t = new FakeTime();
    let release: (r: PollOutcome) => void = () => {};
    let calls = 0;
    const poller = createPoller({
      clock: t.clock,
      timers: t,
      intervalMs: 6 * H,
      jitter: 0,
      failures: () => 0,
      check: () => {
        calls++;
        return new Promise<PollOutcome>((r) => (release = r));
      },
    });
    const a = poller.runNow();
    const b = poller.runNow();
    expect(poller.busy()).toBe(true);
    release({ ok: true });
    expect(await a).toEqual({ ok: true });
    expect(await b).toEqual({ ok: true });
    expect(calls).toBe(1);
    expect(poller.nextAt()).toBe(T0 + 6 * H);
  });

  it('waits longer than setTimeout can hold are taken in slices', async () => {
    const { t, calls, poller } = setup([], { interval: 60 * 24 * H });
    await poller.runNow();
    expect(calls).toHaveLength(1);
    expect(t.armed.every((ms) => ms <= MAX_TIMER_MS)).toBe(true);
    await t.advance(MAX_TIMER_MS);
    expect(calls).toHaveLength(1);
    await t.advance(60 * 24 * H * 1.1);
    expect(calls).toHaveLength(2);
  });

  it('stop cancels the timer and waits for a running check', async () => {
    const { t, poller } = setup([]);
    poller.start(null);
    expect(t.timers()).toBe(1);
    await poller.stop();
    expect(t.timers()).toBe(0);
    expect(poller.nextAt()).toBeNull();
  });

  it("stop aborts the running check's signal and waits for it to return; a restart gets a fresh signal", async () => {
    const t = new FakeTime();
    const signals: AbortSignal[] = [];
    const poller = createPoller({
      clock: t.clock,
      timers: t,
      intervalMs: 6 * H,
      jitter: 0,
      failures: () => 0,
      // Like the daemon's check: returns only when told to stop (a forge that never answers).
      check: (signal) => {
        signals.push(signal);
        return new Promise<PollOutcome>((r) =>
          signal.addEventListener('abort', () => r({ ok: false, retryAt: null })),
        );
      },
    });
    const running = poller.runNow();
    expect(signals[0]?.aborted).toBe(false);
    await poller.stop();
    expect(signals[0]?.aborted).toBe(true);
    expect(await running).toEqual({ ok: false, retryAt: null });
    expect(poller.busy()).toBe(false);
    poller.start(null);
    void poller.runNow();
    expect(signals[1]?.aborted).toBe(false);
    await poller.stop();
  });

  it('nextAt is never in the past: not while a slow check runs, nor when the timer fires late', async () => {
    const t = new FakeTime();
    let finish: (r: PollOutcome) => void = () => {};
    const poller = createPoller({
      clock: t.clock,
      timers: t,
      rand: () => 0.5,
      intervalMs: 6 * H,
      jitter: 0.1,
      failures: () => 0,
      check: () => new Promise<PollOutcome>((r) => (finish = r)),
    });
    poller.start(null);
    const due = poller.nextAt()!;
    await t.advance(due - t.now);
    expect(poller.busy()).toBe(true);
    await t.advance(10 * M); // the check is still waiting for a forge that trickles
    expect(poller.nextAt()).toBeGreaterThanOrEqual(t.now);
    finish({ ok: true });
    await flush();
    expect(poller.nextAt()).toBeGreaterThan(t.now);
    t.now += 9 * H; // a suspended machine: the clock moved on, the timer has not fired yet
    expect(poller.nextAt()).toBeGreaterThanOrEqual(t.now);
    expect(poller.due()).toBeLessThan(t.now); // what the health check reads to see a stalled loop
    await poller.stop();
  });
});
