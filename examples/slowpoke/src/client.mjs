// slowpoke's client: one HTTP request over the daemon's unix socket, on a connection made with
// heph's restart grace (`app.connect`, or `connectWithGrace` from 'heph'): while the daemon
// restarts (a self-update), the socket is missing for a moment and the connect is retried until
// the next daemon listens; nothing is retried once a byte was sent.
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';

/** Where serve() listens unless `[app] socket` says otherwise: the app's run folder. */
export function socketPath(runDir) {
  return join(runDir, 'slowpoke.sock');
}

/**
 * GET `path` on the daemon listening at `socket`; `connect(socket)` gives the connected socket.
 * Resolves with the parsed answer; rejects on any status but 200 or a connection cut short.
 */
export async function request(socket, path, connect) {
  const conn = await connect(socket);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { createConnection: () => conn, path, method: 'GET', headers: { connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode} ${body.trim()}`));
          else resolve(JSON.parse(body));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
