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
  /**
   * Versions a person rolled back from (`heph update rollback`): auto mode skips them, the
   * launcher ignores them. `heph update apply --version V` takes V off the list.
   */
  rolledBack: QuarantineEntry[];
}

export function launcherStateFile(paths: Paths): string {
  return join(paths.state, 'launcher.json');
}

export function emptyLauncherState(): LauncherState {
  return { v: LAUNCHER_STATE_VERSION, attempts: {}, healthy: [], quarantined: [], rolledBack: [] };
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
      rolledBack: Array.isArray(s.rolledBack) ? s.rolledBack : [],
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

export function readRolledBack(paths: Paths): string[] {
  return readLauncherState(paths).rolledBack.map((q) => q.version);
}

/** A person rolled back from `version`: auto mode skips it (reason `rolled-back`). */
export function markRolledBack(paths: Paths, version: string, now = new Date()): void {
  const s = readLauncherState(paths);
  if (s.rolledBack.some((q) => q.version === version)) return;
  s.rolledBack.push({ version, reason: 'rolled back by hand', at: now.toISOString() });
  writeLauncherState(paths, s);
}

/** A person asked for `version` by name: it is no longer skipped. */
export function clearRolledBack(paths: Paths, version: string): void {
  const s = readLauncherState(paths);
  if (!s.rolledBack.some((q) => q.version === version)) return;
  s.rolledBack = s.rolledBack.filter((q) => q.version !== version);
  writeLauncherState(paths, s);
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
