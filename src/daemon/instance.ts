// One daemon per HEPH_HOME (per ACME_HOME for an app): a short start lock around "is another daemon alive? is its socket
// stale? bind", and a pid file naming the running daemon for the refusal message.
import { readFileSync, rmSync, unlinkSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import type { Logger } from 'pino';
import { probeSocket } from '../control/server.js';
import { HephError } from '../errors.js';
import { writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';
import { pidAlive } from '../platform/process.js';
import type { AppIdentity } from '../app/identity.js';

/** A start lock untouched this long belongs to a starter that died; taken over after it. */
const START_LOCK_STALE_MS = 10_000;
/** Two daemons starting together: the loser waits this many times for the winner to bind. */
const START_LOCK_RETRIES = 25;

export interface PidFile {
  pid: number;
  version: string;
  startedAt: string;
  socket: string;
}

export function pidFilePath(paths: Paths): string {
  return paths.pidFile;
}

export function readPidFile(paths: Paths): PidFile | null {
  try {
    const p = JSON.parse(readFileSync(pidFilePath(paths), 'utf8')) as PidFile;
    return Number.isInteger(p.pid) && p.pid > 0 ? p : null;
  } catch {
    return null;
  }
}

/**
 * A live pid that is not the app's is a recycled pid (after a reboot), not a running daemon.
 * /proc/<pid>/cmdline of the app's daemon names the app (acmed, dist/acme.mjs daemon run, the launcher).
 */
function isAppProcess(pid: number, name: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(name);
  } catch {
    return true; // no /proc (macOS): trust the pid
  }
}

function alreadyRunning(paths: Paths, pid: number | null, why: string): HephError {
  const who = pid === null ? 'another hephd' : `hephd (pid ${pid})`;
  return new HephError('E_LOCKED', `${who} is already running for ${paths.state}: ${why}`, {
    hint: 'use `heph status` to talk to it, or stop it first (`heph daemon stop`, or kill that pid)',
    details: { pid, socket: paths.socket },
  });
}

export interface Instance<T> {
  listener: T;
  /** Removes the pid file if it is still ours. */
  release(): void;
}

/**
 * Takes the instance: refuses while another daemon lives (its socket answers, or its pid is a
 * heph process), removes a crashed daemon's stale socket, then runs `listen` and writes the pid
 * file, all under the start lock so two starters cannot both take over the same stale socket.
 */
export async function acquireInstance<T>(opts: {
  paths: Paths;
  app: AppIdentity;
  logger: Logger;
  activated: boolean;
  listen: () => Promise<T>;
}): Promise<Instance<T>> {
  const { paths, app, logger, activated, listen } = opts;
  const unlock = await lockfile.lock(paths.runDir, {
    lockfilePath: paths.startLock,
    realpath: false,
    stale: START_LOCK_STALE_MS,
    retries: { retries: START_LOCK_RETRIES, minTimeout: 100, maxTimeout: 400 },
    onCompromised: () => {},
  });
  let listener: T;
  try {
    const prior = readPidFile(paths);
    const priorPid = prior && prior.pid !== process.pid ? prior.pid : null;
    if (!activated) {
      const socket = await probeSocket(paths.socket);
      if (socket === 'live') throw alreadyRunning(paths, priorPid, `its socket ${paths.socket} answers`);
      if (socket === 'stale') {
        logger.warn(
          { socket: paths.socket },
          'replacing the stale socket of a daemon that did not stop cleanly',
        );
        unlinkSync(paths.socket);
      }
    }
    if (priorPid !== null && isAppProcess(priorPid, app.name)) {
      throw alreadyRunning(paths, priorPid, `pid ${priorPid} is still alive (it may be shutting down)`);
    }
    listener = await listen();
    const pidFile: PidFile = {
      pid: process.pid,
      version: app.version,
      startedAt: new Date().toISOString(),
      socket: paths.socket,
    };
    writeFileAtomic(pidFilePath(paths), `${JSON.stringify(pidFile)}\n`, 0o600);
  } finally {
    await unlock().catch(() => {});
  }
  return {
    listener,
    release() {
      if (readPidFile(paths)?.pid === process.pid) rmSync(pidFilePath(paths), { force: true });
    },
  };
}
