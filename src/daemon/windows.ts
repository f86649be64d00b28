// Maintenance windows (update.windows): when auto mode may switch to a new version and restart.
// Pure: the time zone rules come from Intl (the ICU data Node ships), time comes in as epoch ms.
// See docs/operations.md "Maintenance windows".
//
// A window is local wall-clock time in its zone: "Mon-Fri 02:00-04:00 Europe/Berlin" is open from
// the first instant the zone's clock reads 02:00 on a Monday..Friday until the first instant it
// reads 04:00 after that (the next day when the window crosses midnight). So on the day the clocks
// skip an hour, a window starting inside the gap opens when the clock jumps (02:00 Berlin on the
// last Sunday of March opens at 03:00 CEST), and a window lying wholly in the gap does not open
// that day; on the day an hour repeats, the window opens at the first 02:00 and runs its wall-
// clock length plus the repeated hour.

export interface MaintenanceWindow {
  /** The text as written in the config. */
  text: string;
  /** Weekdays (0 = Sunday .. 6 = Saturday) on which the window starts. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight. end < start: the window crosses midnight. */
  start: number;
  end: number;
  zone: string;
}

/** An occurrence of a window: [start, end) in epoch ms. */
export interface WindowSpan {
  start: number;
  end: number;
  window: string;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FORMAT =
  '"<days> HH:MM-HH:MM <IANA zone>", e.g. "Mon-Fri 02:00-04:00 Europe/Berlin" (days: Mon-Fri, Sat,Sun or *)';
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Thrown by parseWindow; the config schema turns the message into an E_CONFIG naming the key. */
export class WindowSyntaxError extends Error {}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    // Throws RangeError for a zone ICU does not know.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's wall-clock reading at `t`, written as if it were UTC (whole seconds). */
export function wallClock(zone: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
}

/** Whether ICU knows `zone` (an IANA name such as Europe/Berlin, or UTC). */
export function isKnownZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

function parseDays(text: string): Set<number> {
  if (text === '*') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b, extra] = part.split('-');
    const from = DAY_NAMES.indexOf((a ?? '').toLowerCase());
    const to = b === undefined ? from : DAY_NAMES.indexOf(b.toLowerCase());
    if (from < 0 || to < 0 || extra !== undefined) {
      throw new WindowSyntaxError(
        `"${part}" is not a day or a range of days (Mon..Sun, Mon-Fri, Sat,Sun or *)`,
      );
    }
    // A range may wrap the week: Fri-Mon is Fri, Sat, Sun, Mon.
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days;
}

function parseClock(text: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Parses one window; throws WindowSyntaxError saying what is wrong with it. */
export function parseWindow(text: string): MaintenanceWindow {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 3) throw new WindowSyntaxError(`expected ${FORMAT}, got "${text}"`);
  const [daysText, spanText, zone] = fields as [string, string, string];
  const days = parseDays(daysText);
  const [a, b, extra] = spanText.split('-');
  const start = parseClock(a ?? '');
  const end = parseClock(b ?? '');
  if (start === null || end === null || extra !== undefined) {
    throw new WindowSyntaxError(`"${spanText}" is not a time span HH:MM-HH:MM (24-hour clock) in "${text}"`);
  }
  if (start === end) throw new WindowSyntaxError(`"${text}" has zero length (it starts when it ends)`);
  if (!isKnownZone(zone)) {
    throw new WindowSyntaxError(
      `unknown time zone "${zone}" in "${text}" (an IANA name such as Europe/Berlin, or UTC)`,
    );
  }
  return { text, days, start, end, zone };
}

/**
 * The first instant at which the zone's clock reads `local` (a wall-clock time written as UTC
 * ms). In a skipped hour no instant does: then the instant the clock jumps past it.
 */
export function firstInstantAt(zone: string, local: number): number {
  // Offsets on either side; transitions are months apart, so at most one lies in between.
  const before = wallClock(zone, local - DAY_MS - DAY_MS / 2) - (local - DAY_MS - DAY_MS / 2);
  const after = wallClock(zone, local + DAY_MS + DAY_MS / 2) - (local + DAY_MS + DAY_MS / 2);
  const hits = [local - before, local - after].filter((t) => wallClock(zone, t) === local);
  if (hits.length > 0) return Math.min(...hits);
  // The skipped hour: the wall clock is below `local` at lo and above it at hi; find the jump.
  let lo = Math.min(local - before, local - after);
  let hi = Math.max(local - before, local - after);
  if (wallClock(zone, lo) > local) [lo, hi] = [hi, lo];
  while (Math.abs(hi - lo) > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (mid === lo || mid === hi) break;
    if (wallClock(zone, mid) < local) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The occurrences of `w` starting on the local dates around `now` (a day back, eight ahead). */
function spansOf(w: MaintenanceWindow, now: number): WindowSpan[] {
  const today = Math.floor(wallClock(w.zone, now) / DAY_MS) * DAY_MS;
  const spans: WindowSpan[] = [];
  for (let i = -1; i <= 8; i++) {
    const date = today + i * DAY_MS;
    if (!w.days.has(new Date(date).getUTCDay())) continue;
    const endDate = w.end > w.start ? date : date + DAY_MS;
    const start = firstInstantAt(w.zone, date + w.start * MINUTE_MS);
    const end = firstInstantAt(w.zone, endDate + w.end * MINUTE_MS);
    if (end > start) spans.push({ start, end, window: w.text }); // else wholly in a skipped hour
  }
  return spans;
}

/**
 * The window open at `now` (start <= now < end), else the next one to open; null when there are
 * no windows (= any time) or, impossibly for a valid window, none within a week.
 */
export function nextWindow(windows: readonly MaintenanceWindow[], now: number): WindowSpan | null {
  let best: WindowSpan | null = null;
  for (const w of windows) {
    for (const s of spansOf(w, now)) {
      if (s.end <= now) continue;
      const key = Math.max(s.start, now);
      if (
        best === null ||
        key < Math.max(best.start, now) ||
        (key === Math.max(best.start, now) && s.end > best.end)
      ) {
        best = s;
      }
    }
  }
  return best;
}

/** Whether a restart may happen at `now`: no windows at all, or one of them is open. */
export function inWindow(windows: readonly MaintenanceWindow[], now: number): boolean {
  if (windows.length === 0) return true;
  const s = nextWindow(windows, now);
  return s !== null && s.start <= now;
}
