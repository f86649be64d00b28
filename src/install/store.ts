// The versioned store: `<store>/<version>/` folders, the `current` and `previous` links (relative,
// naming a folder), the `.layout` version file, temp names, cleaning up after a crash, pruning.
//
// Invariant: `current` only ever names a complete folder. Folders appear by rename() of a fully
// extracted and smoke-tested temp folder, and links change by rename() of a new link over the old
// one, so a process killed at any moment leaves either the old or the new state, plus `.tmp-*`
// leftovers that cleanStore() removes on the next run.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { HephError } from '../errors.js';
import { fsyncDir, readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';

/** Bumped when the store's shape changes; an older heph refuses a store it does not understand. */
export const STORE_LAYOUT = 1;
export const LAYOUT_FILE = '.layout';
/** Every in-progress name starts with this, so a crash's leftovers are recognisable. */
export const TMP_PREFIX = '.tmp-';
const LINKS = ['current', 'previous'] as const;
/** A version becomes a folder name: no separators, no dot files, nothing a shell would split. */
const SAFE_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;

export interface StoreInfo {
  layout: number;
  current: string | null;
  previous: string | null;
  /** Version folders, oldest first (semver order; other names after, by name). */
  versions: string[];
  complete: Record<string, boolean>;
}

export function assertSafeVersion(version: string): void {
  if (!SAFE_VERSION.test(version) || version === 'current' || version === 'previous') {
    throw new HephError('E_VERIFY', `"${version}" cannot be a version folder name`, {
      hint: 'release tags must be semver versions such as v1.2.3',
    });
  }
}

export function versionDir(paths: Paths, version: string): string {
  return join(paths.store, version);
}

export function tempName(paths: Paths, kind: string): string {
  return join(paths.store, `${TMP_PREFIX}${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

function readLayout(paths: Paths): number | null {
  const text = readTextIfExists(join(paths.store, LAYOUT_FILE));
  if (text === undefined) return null;
  const n = Number(text.trim());
  return Number.isInteger(n) ? n : Number.NaN;
}

/** Creates the store (0700: it holds code that will run) or checks the layout of an existing one. */
export function ensureStore(paths: Paths): void {
  mkdirSync(paths.store, { recursive: true, mode: 0o700 });
  const layout = readLayout(paths);
  if (layout === null) {
    writeFileAtomic(join(paths.store, LAYOUT_FILE), `${STORE_LAYOUT}\n`, 0o644);
    return;
  }
  checkLayout(paths, layout);
}

function checkLayout(paths: Paths, layout: number): void {
  if (layout !== STORE_LAYOUT) {
    throw new HephError(
      'E_PREFLIGHT',
      `${paths.store} has store layout ${Number.isNaN(layout) ? '(unreadable)' : layout}; this heph understands layout ${STORE_LAYOUT}`,
      { hint: 'use the heph that created this store, or move the folder away and run `heph daemon install`' },
    );
  }
}

function readLink(paths: Paths, name: (typeof LINKS)[number]): string | null {
  try {
    const target = readlinkSync(join(paths.store, name));
    return target.includes('/') ? null : target;
  } catch {
    return null;
  }
}

/** True when `dir` holds every file a version needs to run (paths.versionFiles). */
export function isComplete(dir: string, files: readonly string[]): boolean {
  return files.every((f) => existsSync(join(dir, f)));
}

function compareVersions(a: string, b: string): number {
  const va = semver.valid(a);
  const vb = semver.valid(b);
  if (va && vb) return semver.compare(va, vb);
  if (va) return -1;
  if (vb) return 1;
  return a.localeCompare(b);
}

export function readStore(paths: Paths): StoreInfo {
  const layout = readLayout(paths);
  if (layout !== null) checkLayout(paths, layout);
  let names: string[] = [];
  try {
    names = readdirSync(paths.store);
  } catch {
    // no store yet
  }
  const versions = names
    .filter((n) => !n.startsWith('.') && !(LINKS as readonly string[]).includes(n))
    .filter((n) => {
      try {
        return lstatSync(join(paths.store, n)).isDirectory();
      } catch {
        return false;
      }
    })
    .sort(compareVersions);
  const complete: Record<string, boolean> = {};
  for (const v of versions) complete[v] = isComplete(versionDir(paths, v), paths.versionFiles);
  const link = (n: (typeof LINKS)[number]) => {
    const t = readLink(paths, n);
    return t !== null && versions.includes(t) ? t : null;
  };
  return {
    layout: layout ?? STORE_LAYOUT,
    current: link('current'),
    previous: link('previous'),
    versions,
    complete,
  };
}

/**
 * Removes what a killed install left behind: temp folders, partial downloads, half-made links,
 * and version folders that are not complete. Never touches what `current` or `previous` name.
 * Returns the names it removed. Called at the start of every install, under the install lock.
 */
export function cleanStore(paths: Paths): string[] {
  let names: string[];
  try {
    names = readdirSync(paths.store);
  } catch {
    return [];
  }
  const keep = new Set([readLink(paths, 'current'), readLink(paths, 'previous')]);
  const removed: string[] = [];
  for (const n of names) {
    const full = join(paths.store, n);
    const leftover =
      n.startsWith(TMP_PREFIX) ||
      (!n.startsWith('.') &&
        !(LINKS as readonly string[]).includes(n) &&
        !keep.has(n) &&
        lstatSync(full).isDirectory() &&
        !isComplete(full, paths.versionFiles));
    if (!leftover) continue;
    rmSync(full, { recursive: true, force: true });
    removed.push(n);
  }
  if (removed.length) fsyncDir(paths.store);
  return removed;
}

/** Points `name` at `version` atomically: a new link under a temp name, renamed over the old. */
export function setLink(
  paths: Paths,
  name: (typeof LINKS)[number],
  version: string,
  beforeRename?: () => void,
): void {
  const tmp = tempName(paths, `link-${name}`);
  symlinkSync(version, tmp);
  beforeRename?.();
  renameSync(tmp, join(paths.store, name));
  fsyncDir(paths.store);
}

/**
 * Makes `version` current and the old current `previous`. `previous` is written first: a crash
 * between the two leaves previous == current, which is harmless, never a dangling current.
 * `beforeCurrentRename` is the fault-injection point for tests (fault.ts).
 */
export function swapCurrent(
  paths: Paths,
  version: string,
  beforeCurrentRename?: () => void,
): { previous: string | null } {
  const dir = versionDir(paths, version);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory() || !isComplete(dir, paths.versionFiles)) {
    throw new HephError('E_NOT_FOUND', `version ${version} is not complete in ${paths.store}`);
  }
  const old = readLink(paths, 'current');
  // An old current whose folder is gone (deleted by hand) is no rollback target: `previous` never
  // names a missing or incomplete folder.
  const oldUsable = old !== null && old !== version && isComplete(versionDir(paths, old), paths.versionFiles);
  if (oldUsable) setLink(paths, 'previous', old);
  setLink(paths, 'current', version, beforeCurrentRename);
  if (!oldUsable) dropDanglingLinks(paths);
  return { previous: oldUsable ? old : readLink(paths, 'previous') };
}

/**
 * Removes a `current` or `previous` link that names no complete version folder, so nothing
 * (rollback, doctor, the launcher) is pointed at a version that is not there. Returns the names
 * removed. Called under the install lock.
 */
export function dropDanglingLinks(paths: Paths): string[] {
  const dropped: string[] = [];
  for (const name of LINKS) {
    const full = join(paths.store, name);
    const isLink = lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
    if (!isLink) continue;
    const target = readLink(paths, name);
    if (target !== null && isComplete(versionDir(paths, target), paths.versionFiles)) continue;
    rmSync(full, { force: true });
    dropped.push(name);
  }
  if (dropped.length) fsyncDir(paths.store);
  return dropped;
}

/** Makes `previous` current again (and the bad one previous, so a second rollback undoes it). */
export function rollbackStore(paths: Paths): { from: string; to: string } {
  const s = readStore(paths);
  if (s.current === null) {
    throw new HephError('E_NOT_OWNED', `the store ${paths.store} has no current version`, {
      hint: 'run `heph daemon install` so heph manages its own versions',
    });
  }
  if (s.previous === null || s.previous === s.current || !s.complete[s.previous]) {
    throw new HephError(
      'E_NOT_FOUND',
      `there is no previous version to roll back to (current is ${s.current})`,
      {
        hint: 'install a specific version instead: `heph update apply --version X.Y.Z`',
      },
    );
  }
  const from = s.current;
  const to = s.previous;
  setLink(paths, 'previous', from);
  setLink(paths, 'current', to);
  return { from, to };
}

/**
 * Keeps at most `keep` version folders (current and previous always among them), removing the
 * oldest others. A folder is first renamed to a temp name so a crash mid-delete leaves a leftover
 * for cleanStore, not a half-deleted version. Returns the removed versions.
 */
export function prune(paths: Paths, keep: number): string[] {
  const s = readStore(paths);
  const protectedSet = new Set([s.current, s.previous].filter((v): v is string => v !== null));
  const others = s.versions.filter((v) => !protectedSet.has(v));
  const room = Math.max(0, keep - protectedSet.size);
  const doomed = others.slice(0, Math.max(0, others.length - room));
  for (const v of doomed) {
    const tmp = tempName(paths, `prune-${v}`);
    renameSync(versionDir(paths, v), tmp);
    rmSync(tmp, { recursive: true, force: true });
  }
  if (doomed.length) fsyncDir(paths.store);
  return doomed;
}
