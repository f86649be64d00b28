import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { inWindow, nextWindow, parseWindow, wallClock } from '../../src/daemon/windows.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const span = (text: string, now: string) => {
  const s = nextWindow([parseWindow(text)], at(now));
  return s && { start: iso(s.start), end: iso(s.end) };
};

describe('parseWindow', () => {
  it('reads days, a span and a zone', () => {
    const w = parseWindow('Mon-Fri 02:00-04:00 Europe/Berlin');
    expect([...w.days].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([w.start, w.end, w.zone]).toEqual([120, 240, 'Europe/Berlin']);
    expect([...parseWindow('Sat,Sun 22:00-01:30 UTC').days].sort()).toEqual([0, 6]);
    expect(parseWindow('* 00:00-23:59 UTC').days.size).toBe(7);
    expect([...parseWindow('Fri-Mon 01:00-02:00 UTC').days].sort()).toEqual([0, 1, 5, 6]);
  });

  it.each([
    ['Mon-Fri 02:00-04:00', /expected "<days> HH:MM-HH:MM <IANA zone>"/],
    ['Mo-Fr 02:00-04:00 UTC', /"Mo-Fr" is not a day/],
    ['Mon 2:00-04:00 UTC', /"2:00-04:00" is not a time span/],
    ['Mon 02:00-24:00 UTC', /is not a time span/],
    ['Mon 03:00-03:00 UTC', /zero length/],
    ['Mon 02:00-04:00 Mars/Olympus', /unknown time zone "Mars\/Olympus"/],
  ])('refuses %j', (text, message) => {
    expect(() => parseWindow(text)).toThrow(message);
  });

  it('is checked by the config schema, naming the key and the value', () => {
    const r = configSchema.safeParse({
      update: { windows: ['Mon 02:00-04:00 Europe/Berlin', 'Mon 02:00-02:00 UTC'] },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path.join('.')).toBe('update.windows.1');
    expect(r.error?.issues[0]?.message).toContain('"Mon 02:00-02:00 UTC" has zero length');
  });
});

describe('nextWindow on ordinary days', () => {
  it('is the open window, or the next one to open', () => {
    // 2026-06-03 is a Wednesday; Berlin is UTC+2 in summer.
    expect(span('Mon-Fri 02:00-04:00 Europe/Berlin', '2026-06-03T00:30:00Z')).toEqual({
      start: '2026-06-03T00:00:00.000Z',
      end: '2026-06-03T02:00:00.000Z',
    });
    expect(span('Mon-Fri 02:00-04:00 Europe/Berlin', '2026-06-03T02:00:00Z')).toEqual({
      start: '2026-06-04T00:00:00.000Z',
      end: '2026-06-04T02:00:00.000Z',
    });
    // Friday after the window: the next is Monday.
    expect(span('Mon-Fri 02:00-04:00 Europe/Berlin', '2026-06-05T03:00:00Z')?.start).toBe(
      '2026-06-08T00:00:00.000Z',
    );
  });

  it('runs past midnight into a day not listed', () => {
    const w = [parseWindow('Fri 23:00-01:00 UTC')];
    expect(inWindow(w, at('2026-06-06T00:30:00Z'))).toBe(true); // Saturday 00:30, window from Friday
    expect(inWindow(w, at('2026-06-06T01:00:00Z'))).toBe(false);
    expect(inWindow(w, at('2026-06-04T23:30:00Z'))).toBe(false); // Thursday
  });

  it('takes the earliest of several, and none means any time', () => {
    const ws = ['Sat,Sun 10:00-12:00 UTC', 'Mon-Fri 02:00-04:00 America/New_York'].map(parseWindow);
    const s = nextWindow(ws, at('2026-06-05T12:00:00Z')); // Friday noon UTC
    expect(iso(s!.start)).toBe('2026-06-06T10:00:00.000Z'); // Saturday, before Monday 02:00 EDT
    expect(s!.window).toBe('Sat,Sun 10:00-12:00 UTC');
    expect(iso(nextWindow(ws, at('2026-06-07T12:00:00Z'))!.start)).toBe('2026-06-08T06:00:00.000Z');
    expect(inWindow([], at('2026-06-05T12:00:00Z'))).toBe(true);
    expect(nextWindow([], 0)).toBeNull();
  });
});

describe('nextWindow across DST transitions (real zones from ICU)', () => {
  it('Europe/Berlin, the skipped hour: a window starting in the gap opens when the clock jumps', () => {
    // 2026-03-29 01:00Z: 02:00 CET becomes 03:00 CEST.
    expect(span('Sun 02:00-04:00 Europe/Berlin', '2026-03-28T12:00:00Z')).toEqual({
      start: '2026-03-29T01:00:00.000Z',
      end: '2026-03-29T02:00:00.000Z',
    });
    // Wholly inside the gap: no window that Sunday, the next one a week later (CEST).
    expect(span('Sun 02:10-02:50 Europe/Berlin', '2026-03-28T12:00:00Z')).toEqual({
      start: '2026-04-05T00:10:00.000Z',
      end: '2026-04-05T00:50:00.000Z',
    });
  });

  it('Europe/Berlin, the repeated hour: opens at the first 02:00, closes at 04:00 CET', () => {
    // 2026-10-25 01:00Z: 03:00 CEST becomes 02:00 CET.
    expect(span('Sun 02:00-04:00 Europe/Berlin', '2026-10-24T12:00:00Z')).toEqual({
      start: '2026-10-25T00:00:00.000Z',
      end: '2026-10-25T03:00:00.000Z',
    });
    const w = [parseWindow('Sun 02:00-04:00 Europe/Berlin')];
    expect(inWindow(w, at('2026-10-25T01:30:00Z'))).toBe(true); // 02:30 CET, the second time
    expect(inWindow(w, at('2026-10-25T03:00:00Z'))).toBe(false);
  });

  it('America/New_York, the skipped hour', () => {
    // 2026-03-08 07:00Z: 02:00 EST becomes 03:00 EDT.
    expect(span('* 02:30-03:30 America/New_York', '2026-03-08T05:00:00Z')).toEqual({
      start: '2026-03-08T07:00:00.000Z',
      end: '2026-03-08T07:30:00.000Z',
    });
  });

  it('America/New_York, the repeated hour', () => {
    // 2026-11-01 06:00Z: 02:00 EDT becomes 01:00 EST; 01:00-02:00 is lived twice.
    expect(span('* 01:00-02:00 America/New_York', '2026-11-01T04:00:00Z')).toEqual({
      start: '2026-11-01T05:00:00.000Z',
      end: '2026-11-01T07:00:00.000Z',
    });
  });

  it('Australia/Lord_Howe, a half-hour shift', () => {
    // 2026-04-05 02:00 LHDT (+11) = 2026-04-04T15:00Z becomes 01:30 LHST (+10:30).
    expect(span('Sun 01:30-02:00 Australia/Lord_Howe', '2026-04-04T00:00:00Z')).toEqual({
      start: '2026-04-04T14:30:00.000Z',
      end: '2026-04-04T15:30:00.000Z',
    });
  });

  it('agrees with a minute-by-minute reading of the wall clock (any zone, around transitions)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];
    const days = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01'];
    const hhmm = (m: number) =>
      `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 24 * 60 - 1 }),
        fc.integer({ min: 1, max: 6 * 60 }),
        fc.constantFrom(...days),
        fc.integer({ min: -24 * 60, max: 24 * 60 }),
        (zone, start, len, day, offsetMin) => {
          const end = (start + len) % (24 * 60);
          fc.pre(end !== start);
          const now = at(`${day}T00:00:00Z`) + offsetMin * 60_000;
          const got = nextWindow([parseWindow(`* ${hhmm(start)}-${hhmm(end)} ${zone}`)], now)!;
          // The definition, by brute force: each local day's window runs from the first minute
          // whose wall clock reads at least its start to the first that reads at least its end.
          const minutes: number[] = [];
          for (let t = now - 2 * 86_400_000; t < now + 3 * 86_400_000; t += 60_000) minutes.push(t);
          const firstReading = (local: number) => minutes.find((t) => wallClock(zone, t) >= local)!;
          const today = Math.floor(wallClock(zone, now) / 86_400_000) * 86_400_000;
          const spans = [-1, 0, 1]
            .map((i) => today + i * 86_400_000)
            .map((d) => ({
              start: firstReading(d + start * 60_000),
              end: firstReading((end > start ? d : d + 86_400_000) + end * 60_000),
            }))
            .filter((s) => s.end > s.start && s.end > now)
            .sort((a, b) => Math.max(a.start, now) - Math.max(b.start, now));
          expect({ start: iso(got.start), end: iso(got.end) }).toEqual({
            start: iso(spans[0]!.start),
            end: iso(spans[0]!.end),
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});
