// The control socket: HTTP/1.1 over a unix socket (or systemd's fd 3), with size and time limits
// so no client can hurt the daemon, stale-socket takeover, and a drain for graceful shutdown.
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, Server as NetServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { type AppNames, renameForApp } from '../app/identity.js';
import { HephError } from '../errors.js';
import type { Env } from '../platform/paths.js';
import { activatedFd } from '../platform/supervisor.js';
import { setLongTimeout } from '../platform/timers.js';
import { type Answer, type DaemonApi, errorAnswer, knownRoute, route } from './routes.js';

/** Request bodies are tiny JSON objects ({"for":"2h"}); 64 KiB is generous and bounds memory. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Request line and headers; curl sends ~100 bytes. Node's default is 16 KiB; say so on purpose. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** A client that has not sent its headers by now is slow or hostile; its connection is dropped. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request (headers and body) must arrive within this; answers may take longer. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Idle keep-alive connections are closed after this, so they never pin a draining daemon. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * How often Node enforces the two timeouts above. Its default (30 s) would let them overrun
 * threefold; 1 s would wake an idle daemon every second. 5 s: timeouts hold within 5 s.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 5_000;
/** Concurrent connections: a local operator needs a handful; this bounds file descriptors. */
export const MAX_CONNECTIONS = 64;
/** A stale-socket connect test that takes longer than this means nobody is listening properly. */
const PROBE_TIMEOUT_MS = 2_000;
/**
 * The drain's own round trip through the listener (see flushBacklog) answers in a millisecond;
 * past this the daemon is wedged and closes the listener anyway rather than hold the stop.
 */
const FLUSH_TIMEOUT_MS = 2_000;
/**
 * A connection accepted before the drain whose request has not begun within this is dropped:
 * real clients write their request as they connect; a silent one must not hold the stop until
 * the headers timeout.
 */
export const DRAIN_FIRST_REQUEST_MS = 2_000;
/**
 * Where the socket is moved while the drain empties its accept queue: a name no client uses, in
 * the same 0700 folder, and short so it fits sun_path whenever the socket's own name does.
 */
const DRAINING_NAME = '.drain';

/** sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included. */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107;

export type SocketState = 'live' | 'stale' | 'absent';

/**
 * A socket path the kernel would cut or refuse, reported before bind gives a cryptic EINVAL. It
 * is a configuration problem (E_CONFIG, exit 78): a supervisor restarting hephd cannot fix it.
 */
export function assertSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return;
  throw new HephError(
    'E_CONFIG',
    `the control socket path is ${bytes} bytes, too long for a unix socket (at most ${MAX_SOCKET_PATH_BYTES}): ${path}`,
    {
      hint:
        'the socket is hephd.sock in <HEPH_HOME>/run, else under $XDG_RUNTIME_DIR (else XDG_STATE_HOME): ' +
        'point the one in use at a shorter folder (e.g. XDG_RUNTIME_DIR=/run/user/$(id -u)), then start hephd again',
      details: { socket: path, key: 'socket' },
    },
  );
}

/** Is a daemon listening on `path`? A file nobody accepts on is stale (a crashed daemon's). */
export function probeSocket(path: string): Promise<SocketState> {
  try {
    lstatSync(path);
  } catch {
    return Promise.resolve('absent');
  }
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (state: SocketState) => {
      clearTimeout(timer);
      s.destroy();
      resolve(state);
    };
    const timer = setTimeout(() => done('live'), PROBE_TIMEOUT_MS); // accepted by the backlog, busy: treat as live
    s.once('connect', () => done('live'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ENOENT' ? 'absent' : 'stale'));
  });
}

/** Creates the socket folder 0700, or tightens one we own that is looser. */
export function ensureRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0) {
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new HephError('E_PREFLIGHT', `the socket folder ${dir} is open to others and not ours`, {
        hint: `remove it or make it mode 0700 (chmod 700 ${dir})`,
      });
    }
    chmodSync(dir, 0o700);
  }
}

export interface ControlServer {
  /** True when listening on systemd's fd 3 (the socket file is then systemd's, never unlinked). */
  readonly socketActivated: boolean;
  /** Requests being answered right now. */
  inFlight(): number;
  /**
   * Stops accepting (socket path gone at once), answers every connection already accepted by the
   * kernel (with `Connection: close`), waits for them up to `drainMs`, then cuts what is left.
   */
  close(drainMs: number): Promise<void>;
}

export interface ServerOptions {
  socketPath: string;
  api: DaemonApi;
  logger: Logger;
  env: Env;
  pid?: number;
  /**
   * The app whose daemon this is: every answer (status, check reports, errors and hints) is
   * written in heph's names and sent in this app's (renameForApp), so a raw client reads them too.
   */
  app: AppNames;
}

function send(res: ServerResponse, app: AppNames, a: Answer, close = false): void {
  // The names only ever turn into other names ([a-z0-9-], [A-Z0-9_]): the JSON stays whole.
  const text = renameForApp(a.contentType ? String(a.body) : `${JSON.stringify(a.body)}\n`, app);
  res.writeHead(a.status, {
    'content-type': a.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

function handle(
  api: DaemonApi,
  app: AppNames,
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  closing: () => boolean,
): void {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://heph').pathname;
  const refused = knownRoute(method, path);
  if (refused) {
    send(res, app, refused, true); // the body (if any) is not read: close rather than drain it
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    send(res, app, errorAnswer(413, 'E_USAGE', `request body over ${MAX_BODY_BYTES} bytes`), true);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (c: Buffer) => {
    if (over) return;
    size += c.length;
    if (size > MAX_BODY_BYTES) {
      over = true;
      send(res, app, errorAnswer(413, 'E_USAGE', `request body over ${MAX_BODY_BYTES} bytes`), true);
      req.pause();
      return;
    }
    chunks.push(c);
  });
  req.on('error', () => {}); // a client that vanishes mid-body is its own problem
  req.on('end', () => {
    if (over) return;
    route(api, method, path, Buffer.concat(chunks).toString('utf8')).then(
      (a) => {
        // While draining, answers end their connection: a keep-alive client must not hold the exit.
        if (!res.writableEnded && !res.destroyed) send(res, app, a, closing());
      },
      (e) => logger.error({ err: e }, 'control request failed'),
    );
  });
}

/**
 * Empties the listener's accept queue before it is closed. A unix-socket connect succeeds as soon
 * as the kernel queues it, and closing the listener resets every queued connection (ECONNRESET
 * after the client wrote its request: the client may not retry it). Unlinking the path stops new
 * connects, but connects already on their way are still queued for a few milliseconds after it.
 * So the socket is renamed to a name only we know, and we connect to it ourselves: accept is
 * first in, first out, so once our own request is answered every earlier connection has been
 * accepted and will be answered. Never throws: a failure only brings back the old race.
 */
async function flushBacklog(socketPath: string, logger: Logger): Promise<void> {
  const aside = join(dirname(socketPath), DRAINING_NAME);
  try {
    renameSync(socketPath, aside);
  } catch (e) {
    logger.warn({ err: e, socket: socketPath }, 'cannot move the control socket aside for the drain');
    rmSync(socketPath, { force: true });
    return;
  }
  await new Promise<void>((resolve) => {
    const s = connect(aside);
    const timer = setTimeout(() => s.destroy(), FLUSH_TIMEOUT_MS);
    s.on('connect', () => s.end('GET /v1/health HTTP/1.1\r\nhost: heph\r\nconnection: close\r\n\r\n'));
    s.on('error', (e) => logger.warn({ err: e }, 'the drain could not reach its own control socket'));
    s.resume();
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  rmSync(aside, { force: true });
}

/** Per connection: requests answered, and whether one is being answered now. */
interface Conn {
  answered: number;
  busy: boolean;
}

export async function startControlServer(opts: ServerOptions): Promise<ControlServer> {
  const { socketPath, api, logger, app } = opts;
  let active = 0;
  let closing = false;
  const conns = new Map<Socket, Conn>();
  const server: Server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    (req, res) => {
      active++;
      const conn = conns.get(req.socket);
      if (conn) conn.busy = true;
      res.once('close', () => {
        active--;
        if (conn) {
          conn.busy = false;
          conn.answered++;
        }
      });
      try {
        handle(api, app, logger, req, res, () => closing);
      } catch (e) {
        logger.error({ err: e }, 'control request failed');
        if (!res.headersSent) send(res, app, errorAnswer(500, 'E_INTERNAL', 'internal error'), true);
      }
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.on('connection', (socket: Socket) => {
    conns.set(socket, { answered: 0, busy: false });
    socket.once('close', () => conns.delete(socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Garbage bytes, oversized headers, timeouts: answer in JSON when the socket still listens.
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, text, message] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request timed out']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', `headers over ${MAX_HEADER_BYTES} bytes`]
          : [400, 'Bad Request', 'malformed HTTP request'];
    const body = `${JSON.stringify({ error: { code: 'E_USAGE', message, hint: null } })}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  const fd = activatedFd(opts.env, opts.pid ?? process.pid);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (fd !== null) {
      server.listen({ fd }, resolve);
      return;
    }
    assertSocketPath(socketPath);
    // umask 0177 while binding: the socket is born 0600, with no window where others could connect.
    const old = process.umask(0o177);
    try {
      server.listen(socketPath, resolve);
    } finally {
      process.umask(old);
    }
  });
  server.removeAllListeners('error');
  server.on('error', (e) => logger.error({ err: e }, 'control socket error'));
  if (fd === null) {
    chmodSync(socketPath, 0o600);
  }

  return {
    socketActivated: fd !== null,
    inFlight: () => active,
    async close(drainMs: number) {
      closing = true;
      // The socket path goes first: new clients get ENOENT and, seeing the stop marker, retry
      // until the next daemon is up. systemd's socket (fd 3) stays: it queues for the next one.
      if (fd === null) await flushBacklog(socketPath, logger);
      // net.Server's close, not http.Server's: since Node 19 the latter also closes "idle"
      // connections, and Node counts one whose request has not been parsed yet as idle (it was
      // accepted, its bytes are on their way): that client got ECONNRESET after writing.
      const closed = new Promise<void>((r) => NetServer.prototype.close.call(server, () => r()));
      // Keep-alive connections between two requests have all their answers; they are ended now
      // (HTTP lets either side close an idle connection). Each one still being answered gets
      // `Connection: close` on its answer and ends after it.
      for (const [socket, c] of conns) if (c.answered > 0 && !c.busy) socket.end();
      const silent = setTimeout(() => {
        for (const [socket, c] of conns) if (c.answered === 0 && !c.busy) socket.destroy();
      }, DRAIN_FIRST_REQUEST_MS);
      const cancelCut = setLongTimeout(() => server.closeAllConnections(), drainMs);
      await closed;
      clearTimeout(silent);
      cancelCut();
    },
  };
}
