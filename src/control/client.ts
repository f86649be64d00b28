// The control socket's client: one JSON request to hephd, with the restart grace (grace.ts;
// docs/daemon.md "Clients") so a self-update or `systemctl restart` never breaks a caller.
import { createConnection } from 'node:net';
import { HephError } from '../errors.js';
import type { Paths } from '../platform/paths.js';
import { type GraceOptions, REFUSED, RETRIED, withRestartGrace } from './grace.js';

export {
  RESTART_GRACE_MS,
  RESTART_MARKER_MAX_AGE_MS,
  RESTART_RETRY_MS,
  readStopMarker,
  type StopMarker,
  stopPhase,
} from './grace.js';

/** Status and pause answer at once; a check or an install may take as long as the forge does. */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Answers are small JSON documents; a bigger one means something else listens there. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface CallOptions extends GraceOptions {
  timeoutMs?: number;
}

export interface Attempt {
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
 * One request over the unix socket, no retry (callDaemon adds the restart grace; the readiness
 * probe, install/smoke.ts, asks a fresh daemon once). Written over node:net by hand rather than node:http: the
 * HTTP client machinery costs `heph status` ~9 ms of a ~50 ms cold start (bench/cold-start), and
 * a request with `connection: close` and a small JSON answer needs very little of it.
 */
export function requestOnce(
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
  const a = await withRestartGrace(
    async () => {
      const r = await requestOnce(paths.socket, method, path, body, timeoutMs);
      return r.refused ? REFUSED : r;
    },
    paths.stopMarker,
    () => notRunning(paths),
    opts,
  );
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
  const err = (a.body as { error?: { code?: string; message?: string; hint?: string | null } } | null)?.error;
  throw new HephError('E_DAEMON', `hephd refused ${method} ${path}: ${err?.message ?? `HTTP ${status}`}`, {
    hint: err?.hint ?? 'check `heph daemon logs` for the reason',
    details: { status, code: err?.code ?? null },
  });
}
