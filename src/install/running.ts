// The heph that is running right now, as a package on disk: where it lives, whether the store
// owns it, and copying it into the store so that `heph daemon install` leaves heph owning itself.
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Deps } from '../platform/deps.js';
import { fsyncDir } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';
import { acquireInstallLock } from './lock.js';
import {
  assertSafeVersion,
  cleanStore,
  ensureStore,
  isComplete,
  readStore,
  swapCurrent,
  tempName,
  versionDir,
} from './store.js';

/** How far up from this module to look for heph's package.json (dist/chunks/x.mjs is 2 deep). */
const MAX_WALK_UP = 6;
/** A `daemon install` waits this long for a running update rather than failing at once. */
const INSTALL_LOCK_WAIT_MS = 30_000;

/** The package root of the running heph (the folder with package.json named "heph"), or null. */
export function runningPackageRoot(from: string = fileURLToPath(import.meta.url)): string | null {
  let dir = dirname(from);
  for (let i = 0; i < MAX_WALK_UP; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
        if (parsed.name === 'heph') return dir;
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

/** True when the running heph was started from a folder inside the store. */
export function runningFromStore(paths: Paths, root: string | null = runningPackageRoot()): boolean {
  return root !== null && inside(root, paths.store);
}

/**
 * Copies the running bundle (package.json, dist/, templates/) into the store as its version and
 * makes it current when the store has no current. Idempotent: a complete copy is not redone.
 */
export async function installRunningVersion(
  deps: Deps,
): Promise<{ version: string; path: string; changed: boolean }> {
  const { paths } = deps;
  const root = runningPackageRoot();
  if (root === null || !existsSync(join(root, 'dist', 'heph.mjs'))) {
    throw new Error('cannot find the running heph bundle (no package.json named "heph" above dist/)');
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
      for (const part of ['package.json', 'dist', 'templates']) {
        if (existsSync(join(root, part))) cpSync(join(root, part), join(staging, part), { recursive: true });
      }
      if (existsSync(dest)) renameSync(dest, tempName(paths, `replaced-${version}`));
      renameSync(staging, dest);
      fsyncDir(paths.store);
      changed = true;
    }
    if (readStore(paths).current === null) {
      swapCurrent(paths, version);
      changed = true;
    }
    cleanStore(paths);
    return { version, path: dest, changed };
  } finally {
    await release();
  }
}
