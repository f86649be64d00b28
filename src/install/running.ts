// The app that is running right now (heph, or an app built with defineApp), as a package on
// disk: where it lives, whether the store owns it, and copying it into the store so that
// `daemon install` leaves the app owning itself.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HephError } from '../errors.js';
import type { Deps } from '../platform/deps.js';
import { fsyncDir } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';
import { acquireInstallLock } from './lock.js';
import {
  assertSafeVersion,
  cleanStore,
  dropDanglingLinks,
  ensureStore,
  isComplete,
  readStore,
  swapCurrent,
  tempName,
  versionDir,
} from './store.js';

/** How far up from this module to look for the app's package.json (dist/chunks/x.mjs is 2 deep). */
const MAX_WALK_UP = 6;
/** What a package needs besides its `files` (npm always packs these too). */
const ALWAYS_COPIED = ['package.json', 'README.md', 'LICENSE'];
/** A `daemon install` waits this long for a running update rather than failing at once. */
const INSTALL_LOCK_WAIT_MS = 30_000;

/**
 * The package root of the running app (the folder above this code with a package.json named
 * `name`), or null. The engine is bundled into the app, so this module lives in the app's package.
 */
export function runningPackageRoot(
  name = 'heph',
  from: string = fileURLToPath(import.meta.url),
): string | null {
  let dir = dirname(from);
  for (let i = 0; i < MAX_WALK_UP; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
        if (parsed.name === name) return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

function inside(child: string, parent: string): boolean {
  const rel = relative(safeReal(parent), safeReal(child));
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
}

function safeReal(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** True when the running app was started from a folder inside the store. */
export function runningFromStore(paths: Paths, root: string | null): boolean {
  return root !== null && inside(root, paths.store);
}

/**
 * What of the package a store version needs: package.json's `files` (as npm packs them) plus
 * its bundled dependencies, or everything but node_modules when `files` is not set.
 */
function packageParts(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    files?: unknown;
    bundleDependencies?: unknown;
    bundledDependencies?: unknown;
  };
  const bundled = pkg.bundleDependencies ?? pkg.bundledDependencies;
  const deps = Array.isArray(bundled) ? bundled.filter((d): d is string => typeof d === 'string') : [];
  const listed = Array.isArray(pkg.files)
    ? pkg.files.filter((f): f is string => typeof f === 'string').map((f) => f.replace(/\/+$/, ''))
    : readdirSync(root).filter((f) => f !== 'node_modules' && !f.startsWith('.'));
  return [...new Set([...ALWAYS_COPIED, ...listed, ...deps.map((d) => join('node_modules', d))])];
}

/**
 * Copies the running bundle (package.json, dist/, templates/) into the store as its version and
 * makes it current when the store has no current. Idempotent: a complete copy is not redone.
 */
export async function installRunningVersion(
  deps: Deps,
): Promise<{ version: string; path: string; changed: boolean }> {
  const { paths, app } = deps;
  const root = runningPackageRoot(app.name);
  if (root === null || !existsSync(join(root, app.entry))) {
    throw new HephError(
      'E_NOT_FOUND',
      `cannot find the running ${app.name} package (no package.json named "${app.name}" with ${app.entry} above this code)`,
      { hint: `run ${app.name} from its installed package (npm i -g, or a release tarball unpacked)` },
    );
  }
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  assertSafeVersion(version);
  ensureStore(paths);
  const release = await acquireInstallLock(paths, INSTALL_LOCK_WAIT_MS);
  try {
    cleanStore(paths);
    const dest = versionDir(paths, version);
    let changed = false;
    if (!isComplete(dest, paths.versionFiles)) {
      const staging = tempName(paths, 'copy');
      mkdirSync(staging, { mode: 0o755 });
      for (const part of packageParts(root)) {
        if (existsSync(join(root, part))) cpSync(join(root, part), join(staging, part), { recursive: true });
      }
      if (existsSync(dest)) renameSync(dest, tempName(paths, `replaced-${version}`));
      renameSync(staging, dest);
      fsyncDir(paths.store);
      changed = true;
    }
    const current = readStore(paths).current;
    if (current === null || !isComplete(versionDir(paths, current), paths.versionFiles)) {
      swapCurrent(paths, version);
      changed = true;
    }
    // `current` repaired above; a `previous` naming a folder that is gone is dropped too.
    if (dropDanglingLinks(paths).length) changed = true;
    cleanStore(paths);
    return { version, path: dest, changed };
  } finally {
    await release();
  }
}
