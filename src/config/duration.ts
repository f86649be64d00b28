// Durations in the config: a whole number and one unit (`90s`, `15m`, `6h`, `30d`).

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d+)(s|m|h|d)$/;

/**
 * The longest duration heph accepts anywhere (config keys, `update pause --for`): a year. Past
 * it a date leaves what Date can hold ("Invalid time value") and timers overflow; no sensible
 * policy waits longer (docs/configuration.md "Bounds").
 */
export const MAX_DURATION_MS = 365 * 86_400_000;
export const MAX_DURATION_TEXT = '365d';

/** Why `ms` is not a usable duration (zero or less, or past MAX_DURATION_MS), or null. */
export function durationBoundProblem(ms: number): string | null {
  if (ms <= 0) return 'must be more than 0';
  if (ms > MAX_DURATION_MS) return `must be at most ${MAX_DURATION_TEXT}`;
  return null;
}

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** The shortest exact form: 90_000 → "90s", 3_600_000 → "1h". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** Human form for messages: "in 4m 10s", rounded to seconds. */
export function humanDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.slice(0, 2).join(' ');
}
