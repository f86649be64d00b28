// launcher.json: what the launcher (templates/launcher.mjs) and the daemon share about start
// attempts, healthy versions and quarantined versions. The launcher writes it before the
// daemon's code is even imported, so its format is kept deliberately small and stable
// (LAUNCHER_STATE_VERSION); both sides write it atomically.
import { join } from 'node:path';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';

export const LAUNCHER_STATE_VERSION = 1;

export interface QuarantineEntry {
  version: string;
  reason: string;
  at: string;
}

export interface LauncherState {
  v: number;
  /** Starts of a version that has not yet been marked healthy, by version. */
  attempts: Record<string, number>;
  /** Versions that ran healthy for `health_grace` at least once. */
  healthy: string[];
  quarantined: QuarantineEntry[];
}

export function launcherStateFile(paths: Paths): string {
  return join(paths.state, 'launcher.json');
}

export function emptyLauncherState(): LauncherState {
  return { v: LAUNCHER_STATE_VERSION, attempts: {}, healthy: [], quarantined: [] };
}

export function readLauncherState(paths: Paths): LauncherState {
  const text = readTextIfExists(launcherStateFile(paths));
  if (!text) return emptyLauncherState();
  try {
    const s = JSON.parse(text) as Partial<LauncherState>;
    return {
      v: LAUNCHER_STATE_VERSION,
      attempts: typeof s.attempts === 'object' && s.attempts ? s.attempts : {},
      healthy: Array.isArray(s.healthy) ? s.healthy : [],
      quarantined: Array.isArray(s.quarantined) ? s.quarantined : [],
    };
  } catch {
    return emptyLauncherState(); // torn file: start counting afresh rather than refuse to run
  }
}

export function writeLauncherState(paths: Paths, state: LauncherState): void {
  writeFileAtomic(launcherStateFile(paths), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

export function readQuarantined(paths: Paths): string[] {
  return readLauncherState(paths).quarantined.map((q) => q.version);
}

/** Called by the daemon after `health_grace` of good running: resets the start counter. */
export function markHealthy(paths: Paths, version: string): void {
  const s = readLauncherState(paths);
  if (s.healthy.includes(version) && !(version in s.attempts)) return;
  delete s.attempts[version];
  if (!s.healthy.includes(version)) s.healthy.push(version);
  writeLauncherState(paths, s);
}

export function quarantineVersion(paths: Paths, version: string, reason: string, now = new Date()): void {
  const s = readLauncherState(paths);
  if (s.quarantined.some((q) => q.version === version)) return;
  s.quarantined.push({ version, reason, at: now.toISOString() });
  delete s.attempts[version];
  writeLauncherState(paths, s);
}
