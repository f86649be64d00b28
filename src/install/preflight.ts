// Preflight before any download: the store is writable and the disk has room for the download,
// its extraction and a margin. Failing here costs nothing; failing mid-extract costs a cleanup.
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { HephError } from '../errors.js';
import type { Paths } from '../platform/paths.js';
import { ensureStore, tempName } from './store.js';

/** The tarball, its extraction (about twice its size, uncompressed) and slack: 3× the asset. */
export const DISK_FACTOR = 3;
/** Logs, state files and the rest of the system still need to write after an install. */
export const DISK_MARGIN_BYTES = 64 * 1024 * 1024;
/** GitLab asset links carry no size; assume a bundle this large (heph's is a few MB). */
export const UNKNOWN_ASSET_BYTES = 32 * 1024 * 1024;
/** Free bytes for an unprivileged writer on the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

export function neededBytes(assetSize: number | null): number {
  return (assetSize ?? UNKNOWN_ASSET_BYTES) * DISK_FACTOR + DISK_MARGIN_BYTES;
}

/** Throws E_PREFLIGHT when the store cannot be written or the disk is too full. */
export function preflight(
  paths: Paths,
  assetSize: number | null,
  free: (dir: string) => number = freeBytes,
): void {
  try {
    ensureStore(paths);
    const probe = tempName(paths, 'probe');
    writeFileSync(probe, 'ok', { mode: 0o600 });
    rmSync(probe, { force: true });
  } catch (e) {
    if (e instanceof HephError) throw e;
    throw new HephError('E_PREFLIGHT', `the store ${paths.store} is not writable: ${(e as Error).message}`, {
      hint: 'fix the folder permissions (it belongs to the user the service runs as), or set HEPH_HOME',
      cause: e,
    });
  }
  const have = free(paths.store);
  const need = neededBytes(assetSize);
  if (have < need) {
    const mb = (n: number) => `${Math.ceil(n / 2 ** 20)} MiB`;
    throw new HephError(
      'E_PREFLIGHT',
      `not enough free disk for the install: ${mb(have)} free, ${mb(need)} needed in ${paths.store}`,
      {
        hint: 'free some space (or lower install.keep so old versions are pruned), then try again',
        details: { free: have, need },
      },
    );
  }
}
