// launcher.json: what the launcher (templates/launcher.mjs) and the daemon share about start
// attempts, healthy versions and quarantined versions. The launcher writes it before the
// daemon's code is even imported, so its format is kept deliberately small and stable
// (LAUNCHER_STATE_VERSION); both sides write it atomically.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';
import { readJsonState } from '../platform/state-file.js';
import { corruptReporter } from '../audit/corrupt.js';

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

/**
 * The file's shape, checked the same way the launcher (templates/launcher.mjs) checks it by hand:
 * missing keys take their defaults, a wrong type anywhere makes the file foreign (set aside).
 */
const entry = z.object({ version: z.string(), reason: z.string(), at: z.string() });
const launcherStateSchema = z
  .object({
    attempts: z.record(z.string(), z.number().int().min(0)).default({}),
    healthy: z.array(z.string()).default([]),
    quarantined: z.array(entry).default([]),
    rolledBack: z.array(entry).default([]),
  })
  .passthrough();

function parseLauncherState(value: unknown): LauncherState | string {
  const r = launcherStateSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return `${issue.path.join('.') || 'the document'}: ${issue.message}`;
  }
  return { ...(r.data as unknown as LauncherState), v: LAUNCHER_STATE_VERSION };
}

/** A corrupt or foreign-shaped file is set aside and reported (state-file.ts): count afresh. */
export function readLauncherState(paths: Paths, logger?: Logger): LauncherState {
  const s = readJsonState(launcherStateFile(paths), parseLauncherState, {
    onSetAside: corruptReporter(paths.auditFile, logger),
  });
  return s ?? emptyLauncherState();
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

/**
 * Takes back the launcher's count of this start: the daemon could not start for a reason that is
 * not the version's (its config is invalid or unreadable, exit 78), so fixing the config must not
 * find a good version one start from being rolled back and quarantined.
 */
export function uncountStart(paths: Paths, version: string): void {
  const s = readLauncherState(paths);
  const n = s.attempts[version];
  if (n === undefined || n <= 0) return;
  if (n === 1) delete s.attempts[version];
  else s.attempts[version] = n - 1;
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
