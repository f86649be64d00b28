// The control socket's client: one JSON request to hephd, with the restart grace (SPEC.md
// "Control socket") so a self-update or `systemctl restart` never breaks a caller.
import { statSync } from 'node:fs';
import { request } from 'node:http';
import { HephError } from '../errors.js';
import { readTextIfExists } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';

/** A stop marker younger than this means the daemon is probably restarting (SPEC.md: 10 s). */
export const RESTART_MARKER_MAX_AGE_MS = 10_000;
/** How long a client keeps retrying a refused connect while a restart is plausible (SPEC.md: 8 s). */
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
  /** For tests: the clock the stop marker's age is measured with. */
  now?: () => number;
}

/** Epoch ms at which the last daemon stopped, from its marker, or null. */
export function stopMarkerTime(paths: Paths): number | null {
  const text = readTextIfExists(paths.stopMarker);
  if (text === undefined) return null;
  try {
    const t = Date.parse((JSON.parse(text) as { time?: string }).time ?? '');
    if (!Number.isNaN(t)) return t;
  } catch {
    // torn marker: fall back to the file's own time
  }
  try {
    return statSync(paths.stopMarker).mtimeMs;
  } catch {
    return null;
  }
}

export async function restartIsPlausible(paths: Paths, opts: CallOptions = {}): Promise<boolean> {
  const now = (opts.now ?? Date.now)();
  const stopped = stopMarkerTime(paths);
  if (stopped !== null && now - stopped >= 0 && now - stopped < RESTART_MARKER_MAX_AGE_MS) return true;
  return opts.restartPlausible ? Boolean(await opts.restartPlausible()) : false;
}

interface Attempt {
  ok: boolean;
  /** The connect failed before any byte was written (safe to retry). */
  refused?: string;
  status?: number;
  body?: unknown;
  error?: Error;
}

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
    const req = request({
      socketPath,
      method,
      path,
      headers: {
        host: 'heph',
        accept: 'application/json',
        ...(payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
      },
      timeout: timeoutMs,
    });
    req.on('socket', (s) => s.once('connect', () => (connected = true)));
    req.on('timeout', () => req.destroy(new Error(`no answer from hephd within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected && e.code && RETRIED.has(e.code)) resolve({ ok: false, refused: e.code });
      else resolve({ ok: false, error: e });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error('the answer is too large'));
        else chunks.push(c);
      });
      res.on('error', (e) => resolve({ ok: false, error: e }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ ok: true, status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        } catch {
          resolve({
            ok: false,
            error: new Error(`hephd answered HTTP ${res.statusCode} with a body that is not JSON`),
          });
        }
      });
    });
    req.end(payload);
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
  let deadline: number | null = null;
  for (;;) {
    const a = await once(paths.socket, method, path, body, timeoutMs);
    if (a.refused) {
      if (deadline === null) {
        if (!(await restartIsPlausible(paths, opts))) throw notRunning(paths);
        deadline = Date.now() + RESTART_GRACE_MS;
      }
      if (Date.now() + RESTART_RETRY_MS > deadline) throw notRunning(paths);
      await sleep(RESTART_RETRY_MS);
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
