// The control socket's client: one JSON request to hephd, with the restart grace (SPEC.md
// "Control socket") so a self-update or `systemctl restart` never breaks a caller.
import { readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { HephError } from '../errors.js';
import type { Paths } from '../platform/paths.js';

/** A daemon that stopped less than this ago is probably restarting (SPEC.md: 10 s). */
export const RESTART_MARKER_MAX_AGE_MS = 10_000;
/**
 * How long a client keeps retrying a refused connect while a restart is plausible (SPEC.md: 8 s),
 * counted from the first refusal, or from the stop when the daemon was still draining then.
 */
export const RESTART_GRACE_MS = 8_000;
/** Pause between two connect attempts during the grace (SPEC.md: 200 ms). */
export const RESTART_RETRY_MS = 200;
/** Status and pause answer at once; a check or an install may take as long as the forge does. */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Answers are small JSON documents; a bigger one means something else listens there. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Connect errors that mean "nobody listens yet", the only ones retried. */
const RETRIED = new Set(['ENOENT', 'ECONNREFUSED']);

export interface CallOptions {
  /** Another sign of a restart (e.g. the service manager reports the unit starting). */
  restartPlausible?: () => boolean | Promise<boolean>;
  timeoutMs?: number;
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
export function readStopMarker(paths: Paths): StopMarker | null {
  const text = readMarker(paths.stopMarker);
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
      stoppingAt = statSync(paths.stopMarker).mtimeMs;
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

interface Attempt {
  ok: boolean;
  /** The connect failed before any byte was written (safe to retry). */
  refused?: string;
  status?: number;
  body?: unknown;
  error?: Error;
}

/** The one request, by hand: `connection: close`, so the answer ends with the body. */
function requestText(method: string, path: string, payload: string | undefined): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'host: heph', 'accept: application/json', 'connection: close'];
  if (payload !== undefined) {
    lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(payload)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${payload ?? ''}`;
}

interface Answer {
  status: number;
  /** The body once all of it is here; undefined while more is to come. */
  body?: Buffer;
}

/** A chunked body decoded, or undefined while its last chunk is still to come. */
function dechunk(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('hephd answered with a malformed chunked body');
    if (size === 0) return Buffer.concat(parts);
    if (raw.length < eol + 2 + size + 2) return undefined;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * The HTTP/1.1 answer in `raw` so far (hephd's server, or anything curl could talk to): undefined
 * until the head is complete. The body is complete by Content-Length, by the last chunk, or at
 * `ended` (the server closed the connection).
 */
function parseAnswer(raw: Buffer, ended: boolean): Answer | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine = '', ...fields] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`hephd answered with something that is not HTTP: ${statusLine.slice(0, 60)}`);
  const header = (name: string) => {
    const field = fields.find((f) => f.slice(0, f.indexOf(':')).trim().toLowerCase() === name);
    return field
      ?.slice(field.indexOf(':') + 1)
      .trim()
      .toLowerCase();
  };
  const status = Number(m[1]);
  const rest = raw.subarray(headEnd + 4);
  if (header('transfer-encoding')?.includes('chunked')) return { status, body: dechunk(rest) };
  const length = header('content-length');
  if (length !== undefined) {
    const n = Number(length);
    if (!Number.isInteger(n) || n < 0) throw new Error(`hephd answered with content-length "${length}"`);
    return { status, body: rest.length >= n ? rest.subarray(0, n) : undefined };
  }
  return { status, body: ended ? rest : undefined };
}

/**
 * One request over the unix socket. Written over node:net by hand rather than node:http: the
 * HTTP client machinery costs `heph status` ~9 ms of a ~50 ms cold start (bench/cold-start), and
 * a request with `connection: close` and a small JSON answer needs very little of it.
 */
function once(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<Attempt> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let connected = false;
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = createConnection(socketPath);
    const settle = (a: Attempt) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(a);
    };
    /** Settles once the whole answer is here; false while more is to come. */
    const tryFinish = (ended: boolean): boolean => {
      let answer: Answer | undefined;
      try {
        answer = parseAnswer(Buffer.concat(chunks), ended);
      } catch (e) {
        settle({ ok: false, error: e as Error });
        return true;
      }
      if (answer?.body === undefined) return false;
      const text = answer.body.toString('utf8');
      try {
        settle({ ok: true, status: answer.status, body: text ? JSON.parse(text) : null });
      } catch {
        settle({
          ok: false,
          error: new Error(`hephd answered HTTP ${answer.status} with a body that is not JSON`),
        });
      }
      return true;
    };
    socket.setTimeout(timeoutMs, () =>
      settle({ ok: false, error: new Error(`no answer from hephd within ${timeoutMs} ms`) }),
    );
    socket.on('connect', () => {
      connected = true;
      socket.write(requestText(method, path, payload));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected && e.code && RETRIED.has(e.code)) settle({ ok: false, refused: e.code });
      else settle({ ok: false, error: e });
    });
    socket.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ANSWER_BYTES) settle({ ok: false, error: new Error('the answer is too large') });
      else {
        chunks.push(c);
        tryFinish(false);
      }
    });
    socket.on('end', () => {
      if (!tryFinish(true)) settle({ ok: false, error: new Error('hephd closed the connection mid-answer') });
    });
    socket.on('close', () =>
      settle({ ok: false, error: new Error('hephd closed the connection without answering') }),
    );
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function notRunning(paths: Paths): HephError {
  return new HephError('E_NOT_RUNNING', `hephd is not running (socket ${paths.socket})`, {
    hint: 'start it with `heph daemon start` (or run `hephd` in the foreground)',
    details: { socket: paths.socket },
  });
}

/**
 * One request to the daemon; resolves to the parsed JSON answer of a 2xx (and of 503 on
 * /v1/health, which is a status, not an error). Throws E_NOT_RUNNING when nobody listens, and
 * E_DAEMON for an error answer or a connection lost after the request was sent (never retried:
 * the daemon may have acted on it).
 */
export async function callDaemon(
  paths: Paths,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  opts: CallOptions = {},
): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const pause = opts.sleep ?? sleep;
  /** From when the grace counts; null until a refused connect found a restart plausible. */
  let graceFrom: number | null = null;
  for (;;) {
    const a = await once(paths.socket, method, path, body, timeoutMs);
    if (a.refused) {
      // Read again at each attempt (one small file): the draining daemon adds `stoppedAt` when done.
      const t = now();
      const p = stopPhase(readStopMarker(paths), t);
      if (graceFrom === null) {
        const hinted = p.phase === 'none' && opts.restartPlausible && (await opts.restartPlausible());
        if (p.phase === 'none' && !hinted) throw notRunning(paths);
        graceFrom = t;
      }
      // While the old daemon drains, the grace has not begun; it counts from its stop.
      if (p.phase === 'draining') graceFrom = t;
      else if (p.phase === 'stopped') graceFrom = Math.max(graceFrom, p.at);
      if (t + RESTART_RETRY_MS > graceFrom + RESTART_GRACE_MS) throw notRunning(paths);
      await pause(RESTART_RETRY_MS);
      continue;
    }
    if (!a.ok && (a.error as NodeJS.ErrnoException | undefined)?.code === 'EACCES') {
      throw new HephError('E_DAEMON', `no permission to use the control socket ${paths.socket}`, {
        hint: 'the socket is 0600 for the user hephd runs as: run this as that user (or with sudo for a system service)',
        cause: a.error,
      });
    }
    if (!a.ok) {
      throw new HephError('E_DAEMON', `hephd did not answer ${method} ${path}: ${a.error?.message}`, {
        hint: 'check `heph daemon logs`; the request was not retried because hephd may have acted on it',
        cause: a.error,
      });
    }
    const status = a.status ?? 0;
    if ((status >= 200 && status < 300) || (status === 503 && path === '/v1/health')) return a.body;
    const err = (a.body as { error?: { code?: string; message?: string; hint?: string | null } } | null)
      ?.error;
    throw new HephError('E_DAEMON', `hephd refused ${method} ${path}: ${err?.message ?? `HTTP ${status}`}`, {
      hint: err?.hint ?? 'check `heph daemon logs` for the reason',
      details: { status, code: err?.code ?? null },
    });
  }
}
