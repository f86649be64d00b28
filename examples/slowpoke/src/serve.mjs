// slowpoke's work inside the daemon: an HTTP service on a unix socket whose requests take
// seconds. It stops without cutting anything: when heph starts draining (a self-update, a stop),
// the socket's path is removed first, so new clients get ENOENT and wait for the next daemon
// (heph's restart grace, see client.mjs); what was already connected is answered; the drain
// waits for every request it tracked.
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { socketPath } from './client.mjs';

/** The longest request slowpoke accepts. */
const MAX_SLEEP_MS = 60_000;
/**
 * After the path is gone, connections a client made just before are still in the listen queue:
 * keep accepting this long before closing the listener, so none of them is reset.
 */
const ACCEPT_QUEUED_MS = 500;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/**
 * serve(ctx) for defineApp, with the run folder the socket goes in by default (`[app] socket` in
 * the config file names another path).
 */
export async function serve(ctx, runDir) {
  const path = typeof ctx.config.socket === 'string' ? ctx.config.socket : socketPath(runDir);
  const server = createServer((req, res) => {
    // The drain waits until this response is finished (or its client went away).
    ctx.track(new Promise((resolve) => res.once('close', resolve)));
    // While draining, answer what is here but tell the client not to reuse the connection.
    if (ctx.signal.aborted) res.setHeader('connection', 'close');
    const url = new URL(req.url ?? '/', 'http://slowpoke');
    if (req.method === 'GET' && url.pathname === '/sleep') {
      const ms = Math.min(Math.max(Number(url.searchParams.get('ms') ?? 1000) || 0, 0), MAX_SLEEP_MS);
      void sleep(ms).then(() => answer(res, 200, { version: ctx.version, slept: ms, pid: process.pid }));
    } else if (req.method === 'GET' && url.pathname === '/health') {
      answer(res, 200, { version: ctx.version, pid: process.pid });
    } else {
      answer(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    }
  });

  // heph runs one daemon per app at a time, so a socket file here is a leftover of a crash.
  rmSync(path, { force: true });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  ctx.logger.info({ socket: path }, 'slowpoke listening');

  ctx.signal.addEventListener(
    'abort',
    () => {
      // Tracked at once (inside the abort event), so the drain also waits for the close.
      ctx.track(
        (async () => {
          rmSync(path, { force: true }); // new connects: ENOENT, they wait for the next daemon
          server.closeIdleConnections(); // keep-alive connections with nothing in flight
          await sleep(ACCEPT_QUEUED_MS); // still accepting what was queued before the path went
          await new Promise((resolve) => server.close(() => resolve()));
          ctx.logger.info({ socket: path }, 'slowpoke closed: every request answered');
        })(),
      );
    },
    { once: true },
  );
}
