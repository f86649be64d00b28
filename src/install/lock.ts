// One install at a time: a proper-lockfile lock (`<state>/install.lock`, a folder whose mtime the
// holder keeps fresh) plus `<state>/install.lock.holder` naming who holds it, for the E_LOCKED
// message. A holder killed by SIGKILL is taken over at once when its pid is gone, else once the
// lock goes stale.
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { HephError } from '../errors.js';
import { writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';
import { pidAlive } from '../platform/process.js';

/** A live holder touches the lock every STALE_MS/2; an untouched lock this old is abandoned. */
export const STALE_MS = 10_000;
/** Lock birth times are sub-millisecond, holder times are whole ms: tolerance when comparing. */
const CLOCK_SLACK_MS = 5;
/** How often a waiting install tries again. */
const RETRY_MS = 200;
/**
 * The holder writes its name just after taking the lock; a loser that looks in between finds no
 * name. It waits up to this long for one, so E_LOCKED names the holder instead of "another process".
 */
const HOLDER_WRITE_GRACE_MS = 1_000;
const HOLDER_POLL_MS = 25;
/** The holder's command line is shown to people; long argument lists are cut. */
const MAX_COMMAND_CHARS = 200;

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export function lockPaths(paths: Paths): { target: string; lock: string; holder: string } {
  return {
    target: join(paths.state, 'install'),
    lock: join(paths.state, 'install.lock'),
    holder: join(paths.state, 'install.lock.holder'),
  };
}

export function readHolder(paths: Paths): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(lockPaths(paths).holder, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : null;
  } catch {
    return null;
  }
}

/**
 * The holder died without unlocking (kill -9): remove its lock now instead of waiting STALE_MS.
 * Only when the holder file names a pid on this host that no longer exists, and the lock folder
 * is still the one that holder made (its birth time predates the holder file's write).
 */
function takeOverDeadHolder(paths: Paths): boolean {
  const { lock } = lockPaths(paths);
  const h = readHolder(paths);
  if (!h || h.host !== hostname() || h.pid === process.pid || pidAlive(h.pid)) return false;
  try {
    const lockBorn = statSync(lock).birthtimeMs || statSync(lock).ctimeMs;
    if (lockBorn > Date.parse(h.since) + CLOCK_SLACK_MS) return false; // a newer holder already took it
    rmdirSync(lock);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Takes the install lock, waiting up to `waitMs` (0: fail at once) for a live holder to finish.
 * Returns the release function. Throws E_LOCKED naming the holder.
 */
export async function acquireInstallLock(paths: Paths, waitMs = 0): Promise<() => Promise<void>> {
  const p = lockPaths(paths);
  const deadline = Date.now() + waitMs;
  mkdirSync(paths.state, { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      const release = await lockfile.lock(p.target, {
        lockfilePath: p.lock,
        realpath: false,
        stale: STALE_MS,
        retries: 0,
        // A lost lock (the machine slept past STALE_MS) is reported by the final unlock, not by a
        // throw from a timer that would kill the daemon.
        onCompromised: () => {},
      });
      const holder: LockHolder = {
        pid: process.pid,
        host: hostname(),
        command: process.argv.slice(1).join(' ').slice(0, MAX_COMMAND_CHARS),
        since: new Date().toISOString(),
      };
      try {
        writeFileAtomic(p.holder, `${JSON.stringify(holder)}\n`, 0o644);
      } catch (e) {
        // A full disk must not leave a lock that blocks the next install until it goes stale.
        await release().catch(() => {});
        throw e;
      }
      return async () => {
        rmSync(p.holder, { force: true });
        await release().catch(() => {});
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      if (takeOverDeadHolder(paths)) continue;
      if (Date.now() >= deadline) throw await lockedError(paths);
      await sleep(RETRY_MS);
    }
  }
}

async function lockedError(paths: Paths): Promise<HephError> {
  let h = readHolder(paths);
  for (let waited = 0; h === null && waited < HOLDER_WRITE_GRACE_MS; waited += HOLDER_POLL_MS) {
    await sleep(HOLDER_POLL_MS);
    h = readHolder(paths);
  }
  if (h === null) {
    // Only an installer killed between taking the lock and naming itself leaves this; with no
    // pid to check, its lock is taken over once stale.
    return new HephError('E_LOCKED', 'another install holds the lock but has not named itself', {
      hint: `if no install is running, an installer died as it started: its lock is taken over ${STALE_MS / 1000} s after its last sign of life; try again then`,
      details: {},
    });
  }
  return new HephError(
    'E_LOCKED',
    `another install is in progress: pid ${h.pid} (${h.command || 'heph'}) since ${h.since}`,
    {
      hint: 'wait for it to finish and try again; a crashed holder is taken over automatically',
      details: { holder: h },
    },
  );
}
