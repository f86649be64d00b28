// Fleet load on one forge: 10,000 daemons on a virtual clock running the real scheduler
// (src/daemon/schedule.ts) and the real rollout (src/release/select.ts + bucket.ts).
// Every figure is set against an ideal fleet simulated in this same run, with the same seeds.
import { bucketOf } from '../src/update/bucket.js';
import { select } from '../src/release/select.js';
import type { SelectionPolicy } from '../src/release/types.js';
import { nextCheckDelay, startDelay } from '../src/daemon/schedule.js';
import { DAY, type Day, daemonDay, perMinute as fleetPerMinute } from '../test/helpers/fleet.js';
import { seeded } from '../test/helpers/random.js';
import { QUICK, row } from './lib.js';

/** The fleet the target is stated for; --quick uses a tenth, which only adds sampling noise. */
const FLEET = QUICK ? 1_000 : 10_000;
const M = 60_000;
const H = 60 * M;
/** The defaults of update.interval and update.jitter (src/config/schema.ts). */
const INTERVAL = 6 * H;
const JITTER = 0.1;
/** The outage scenario: the forge answers nothing from 02:00 to 03:00 of the simulated day. */
const OUTAGE = { from: 2 * H, to: 3 * H };
/** The staged-rollout scenario's update.rollout_window. */
const WINDOW = 24 * H;
/** Where virtual time 0 sits on the calendar (select() reads ISO publish dates). */
const T0 = Date.parse('2026-01-05T00:00:00Z');
/** Seeds are per daemon, so every scenario sees the same machines drawing the same numbers. */
const SEED_BASE = 7_000;

/** Requests per minute over [from, to) of virtual time, for this bench's fleet. */
const perMinute = (day: Day, from = 0, to = DAY) =>
  fleetPerMinute(day, { fleet: FLEET, seedBase: SEED_BASE, from, to });

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const peak = (xs: number[]) => Math.max(...xs);

/**
 * The ideal an uncoordinated fleet can reach: each machine checks exactly every interval at a
 * uniformly random phase. What is left in its peak/mean is counting noise, which no scheduler
 * without a central coordinator can remove.
 */
const ideal: Day = (rand) => {
  const out: number[] = [];
  for (let t = rand() * INTERVAL; t < DAY; t += INTERVAL) out.push(t);
  return out;
};

/** Machines that had been running a while: their last check was anywhere in the last period. */
const rebooted = daemonDay({ interval: INTERVAL, jitter: JITTER, lastCheckAt: (rand) => -rand() * INTERVAL });
/** A fleet installed at once: no machine has checked before. */
const fresh = daemonDay({ interval: INTERVAL, jitter: JITTER, lastCheckAt: () => null });
/** Like `rebooted`, but every check inside OUTAGE fails and the daemon backs off. */
const withOutage = daemonDay({
  interval: INTERVAL,
  jitter: JITTER,
  lastCheckAt: (rand) => -rand() * INTERVAL,
  outage: OUTAGE,
});

const fmt = (x: number, d = 2) => x.toFixed(d);

function loadSection(): void {
  console.log(`fleet of ${FLEET.toLocaleString('en')} daemons, interval 6h, jitter 0.1, one virtual day`);
  row('measure', 'value', 'target', null);
  const base = perMinute(ideal);
  const baseRatio = peak(base) / mean(base);
  row('ideal fleet (random phases): peak/mean per min', fmt(baseRatio), 'baseline', null);

  const re = perMinute(rebooted);
  const reRatio = peak(re) / mean(re);
  row('rebooted together (phases kept): peak/mean per min', fmt(reRatio), '≤ 1.2', reRatio <= 1.2);
  row('  … against the ideal fleet', `${fmt(reRatio / baseRatio)}×`, '≤ 1.2×', reRatio / baseRatio <= 1.2);
  const hourly = (xs: number[]) => Array.from({ length: 24 }, (_, h) => sum(xs.slice(h * 60, h * 60 + 60)));
  const reHourly = peak(hourly(re)) / mean(hourly(re));
  row('rebooted together: peak/mean per hour', fmt(reHourly), '≤ 1.2', reHourly <= 1.2);

  const fr = perMinute(fresh);
  const boot = fr.slice(0, 15);
  const frRatio = peak(fr) / mean(fr);
  row(
    'installed in the same minute (no state): day-1 peak/mean per min',
    fmt(frRatio),
    '≤ 1.6',
    frRatio <= 1.6,
  );
  row('  … against the ideal fleet', `${fmt(frRatio / baseRatio)}×`, '', null);
  row('  busiest minute of the first 15 min', `${peak(boot)} req = ${fmt(peak(boot) / 60, 1)}/s`, '', null);
  const settled = fr.slice(18 * 60);
  row('  peak/mean per min from hour 18 on', fmt(peak(settled) / mean(settled)), '', null);

  row('requests per day (rebooted fleet)', `${sum(re)} = ${fmt(sum(re) / FLEET)}/daemon`, '', null);
  row('  ideal: fleet × 24h / interval', `${sum(base)} = ${fmt(sum(base) / FLEET)}/daemon`, '', null);

  const out = perMinute(withOutage);
  const normalHour = sum(re.slice(OUTAGE.from / M, OUTAGE.to / M));
  const outageHour = sum(out.slice(OUTAGE.from / M, OUTAGE.to / M));
  const afterHour = out.slice(OUTAGE.to / M, OUTAGE.to / M + 60);
  row(
    '1 h outage: requests in the outage hour vs normal',
    `${outageHour} vs ${normalHour} = ${fmt(outageHour / normalHour)}×`,
    '',
    null,
  );
  row(
    '  busiest outage minute / normal mean',
    `${fmt(peak(out.slice(OUTAGE.from / M, OUTAGE.to / M)) / mean(re))}×`,
    '',
    null,
  );
  row('  busiest minute in the hour after / normal mean', `${fmt(peak(afterHour) / mean(re))}×`, '', null);
  row(
    '  extra requests over the day',
    `+${sum(out) - sum(re)} (${fmt(((sum(out) - sum(re)) / sum(re)) * 100, 1)}%)`,
    '',
    null,
  );
}

const POLICY: SelectionPolicy = {
  channel: 'stable',
  allowMajor: false,
  minReleaseAgeMs: 0,
  rolloutWindowMs: WINDOW,
  tagPrefix: 'v',
  asset: 'heph-{version}.tgz',
  quarantined: [],
  paused: false,
};
/** Published at virtual 0, when the fleet has been running (random phases) for a while. */
const RELEASE = {
  tag: 'v1.1.0',
  name: 'v1.1.0',
  notes: '',
  draft: false,
  prerelease: false,
  publishedAt: new Date(T0).toISOString(),
  url: 'https://forge.invalid/r/v1.1.0',
  assets: [{ name: 'heph-1.1.0.tgz', url: 'https://forge.invalid/a', size: 1, sha256: null }],
};

/** When each daemon installs 1.1.0 (virtual ms), deciding with select() at each of its checks. */
function installTimes(windowMs: number, horizon: number): { at: number[]; eligible: number[] } {
  const policy = { ...POLICY, rolloutWindowMs: windowMs };
  const at: number[] = [];
  const eligible: number[] = [];
  for (let i = 0; i < FLEET; i++) {
    const rand = seeded(SEED_BASE + i);
    const bucket = bucketOf(`bench-machine-${i}`);
    eligible.push(Math.floor(bucket * windowMs));
    let t = startDelay(INTERVAL, rand, -rand() * INTERVAL, 0);
    let installed = Number.POSITIVE_INFINITY;
    while (t < horizon) {
      const s = select({ releases: [RELEASE], current: '1.0.0', policy, now: T0 + t, bucket });
      if (s.candidate !== null) {
        installed = t;
        break;
      }
      t += nextCheckDelay(INTERVAL, JITTER, rand);
    }
    at.push(installed);
  }
  return { at, eligible };
}

function rolloutSection(): void {
  const horizon = WINDOW + 2 * INTERVAL;
  const staged = installTimes(WINDOW, horizon);
  const all = installTimes(0, horizon);
  const share = (xs: number[], t: number) => xs.filter((x) => x <= t).length / FLEET;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log('\nrollout of 1.1.0 published at 0h, update.rollout_window = 24h vs 0 (same fleet)');
  console.log(`${'hours'.padEnd(8)}${'eligible'.padEnd(12)}${'installed'.padEnd(12)}installed, window 0`);
  for (const h of [1, 3, 6, 12, 18, 24, 27, 30, 36]) {
    const t = h * H;
    console.log(
      `${String(h).padEnd(8)}${pct(share(staged.eligible, t)).padEnd(12)}${pct(share(staged.at, t)).padEnd(12)}${pct(share(all.at, t))}`,
    );
  }
  const lags = staged.at.map((t, i) => t - staged.eligible[i]!).filter(Number.isFinite);
  row('mean lag from eligible to installed (window 24h)', `${fmt(mean(lags) / H)} h`, '≈ interval/2', null);
  const perMin = (xs: number[]) => {
    const bins = new Array<number>(horizon / M).fill(0);
    for (const t of xs) if (Number.isFinite(t)) bins[Math.floor(t / M)]!++;
    return peak(bins);
  };
  row('busiest minute of downloads, window 24h vs 0', `${perMin(staged.at)} vs ${perMin(all.at)}`, '', null);
}

const t0 = performance.now();
loadSection();
rolloutSection();
console.log(
  `(simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s; seeds fixed, so figures repeat)`,
);
