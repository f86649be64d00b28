// The restart grace (docs/daemon.md "Clients"): a connect refused while a restart is plausible
// (the daemon's stop marker is fresh, or the service manager says the unit is starting) is
// retried for up to 8 s, 200 ms apart, and only before any byte is written. Used by the control
// client and exported to embedding apps for their own sockets (connectWithGrace).
import { readFileSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';

/** A daemon that stopped less than this ago is probably restarting (docs/daemon.md: 10 s). */
export const RESTART_MARKER_MAX_AGE_MS = 10_000;
/**
 * How long a client keeps retrying a refused connect while a restart is plausible (docs/daemon.md: 8 s),
 * counted from the first refusal, or from the stop when the daemon was still draining then.
 */
export const RESTART_GRACE_MS = 8_000;
/** Pause between two connect attempts during the grace (docs/daemon.md: 200 ms). */
export const RESTART_RETRY_MS = 200;
/** Connect errors that mean "nobody listens yet", the only ones retried. */
export const RETRIED = new Set(['ENOENT', 'ECONNREFUSED']);

export interface GraceOptions {
  /** Another sign of a restart (e.g. the service manager reports the unit starting). */
  restartPlausible?: () => boolean | Promise<boolean>;
  /** For tests: the clock the stop marker and the grace are measured with. */
  now?: () => number;
  /** For tests: the pause between two connect attempts. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The stop marker's text, or undefined when there is none or it cannot be read (another user's
 * service: no sign, as without a marker). Read with node:fs directly rather than platform/fs.ts,
 * whose atomic writes import node:crypto: ~2 ms of `heph status`'s cold start.
 */
function readMarker(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** What a stopping daemon left in run/hephd.stopped (src/daemon/lifecycle.ts), as epoch ms. */
export interface StopMarker {
  pid: number | null;
  /** When the drain began (`stoppingAt`, or `time` from daemons without a drain deadline). */
  stoppingAt: number;
  /** Until when the daemon may drain; null from daemons that did not say. */
  drainDeadline: number | null;
  /** When the drain was over and the daemon exited; null while it drains (or if it died). */
  stoppedAt: number | null;
}

const epoch = (v: unknown): number | null => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? null : t;
};

/** The stop marker, or null when there is none. A torn one counts as written at its mtime. */
export function readStopMarker(file: string): StopMarker | null {
  const text = readMarker(file);
  if (text === undefined) return null;
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // torn marker: fall back to the file's own time
  }
  let stoppingAt = epoch(doc.stoppingAt) ?? epoch(doc.time);
  if (stoppingAt === null) {
    try {
      stoppingAt = statSync(file).mtimeMs;
    } catch {
      return null;
    }
  }
  return {
    pid: Number.isInteger(doc.pid) ? (doc.pid as number) : null,
    stoppingAt,
    drainDeadline: epoch(doc.drainDeadline),
    stoppedAt: epoch(doc.stoppedAt),
  };
}

/** Whether `pid` still runs; EPERM is another user's live process (a system service). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where the marker's daemon is: still draining (it may hold its drain up to the deadline, e.g.
 * for an install), stopped at a known time, or no sign of a restart. A daemon that died mid-drain
 * (no `stoppedAt`, pid gone) counts as stopped when its drain began, as before drain deadlines.
 */
export type StopPhase = { phase: 'draining' } | { phase: 'stopped'; at: number } | { phase: 'none' };

export function stopPhase(
  m: StopMarker | null,
  now: number,
  alive: (pid: number) => boolean = processAlive,
): StopPhase {
  if (m === null || now < m.stoppingAt) return { phase: 'none' };
  let at = m.stoppingAt;
  if (m.stoppedAt !== null) at = m.stoppedAt;
  else if (m.drainDeadline !== null && (m.pid === null || alive(m.pid))) {
    if (now < m.drainDeadline) return { phase: 'draining' };
    at = m.drainDeadline;
  }
  return now - at < RESTART_MARKER_MAX_AGE_MS ? { phase: 'stopped', at } : { phase: 'none' };
}

/** What an attempt returns when its connect was refused before any byte was written. */
export const REFUSED: unique symbol = Symbol('refused');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `attempt` until it returns something other than REFUSED: at once when no restart is
 * plausible (then `notRunning()` is thrown), else every RESTART_RETRY_MS until the grace ends.
 */
export async function withRestartGrace<T>(
  attempt: () => Promise<T | typeof REFUSED>,
  stopMarkerFile: string,
  notRunning: () => Error,
  opts: GraceOptions = {},
): Promise<T> {
  const now = opts.now ?? Date.now;
  const pause = opts.sleep ?? sleep;
  /** From when the grace counts; null until a refused connect found a restart plausible. */
  let graceFrom: number | null = null;
  for (;;) {
    const a = await attempt();
    if (a !== REFUSED) return a;
    // Read again at each attempt (one small file): the draining daemon adds `stoppedAt` when done.
    const t = now();
    const p = stopPhase(readStopMarker(stopMarkerFile), t);
    if (graceFrom === null) {
      const hinted = p.phase === 'none' && opts.restartPlausible && (await opts.restartPlausible());
      if (p.phase === 'none' && !hinted) throw notRunning();
      graceFrom = t;
    }
    // While the old daemon drains, the grace has not begun; it counts from its stop.
    if (p.phase === 'draining') graceFrom = t;
    else if (p.phase === 'stopped') graceFrom = Math.max(graceFrom, p.at);
    if (t + RESTART_RETRY_MS > graceFrom + RESTART_GRACE_MS) throw notRunning();
    await pause(RESTART_RETRY_MS);
  }
}

export interface ConnectOptions extends GraceOptions {
  /** The daemon's stop marker: the sign that a restart is under way (app.paths.stopMarker). */
  stopMarker: string;
}

/**
 * A connected socket to `path` (an embedding app's own unix socket), riding out the daemon's
 * restart: refused connects are retried through the grace, never after a byte was written.
 * Rejects with an error whose `code` is ENOENT/ECONNREFUSED when nobody listens and no restart is
 * plausible (or the grace ran out), or with the connect's own error.
 */
export function connectWithGrace(path: string, opts: ConnectOptions): Promise<Socket> {
  let last: NodeJS.ErrnoException | undefined;
  const attempt = () =>
    new Promise<Socket | typeof REFUSED>((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        socket.destroy();
        if (e.code && RETRIED.has(e.code)) {
          last = e;
          resolve(REFUSED);
        } else reject(e);
      });
    });
  const notRunning = () => {
    const e = new Error(`nothing listens on ${path} and no restart is under way`) as NodeJS.ErrnoException;
    e.code = last?.code ?? 'ECONNREFUSED';
    return e;
  };
  return withRestartGrace(attempt, opts.stopMarker, notRunning, opts);
}
