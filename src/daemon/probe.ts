// `heph daemon probe --socket PATH`: the readiness probe a new version passes before `current`
// moves to it (src/install/smoke.ts probeBundle). It does what a starting daemon does up to the
// point of serving, without touching the running daemon's files: loads and validates the config,
// builds the forge client (token, URL, proxy; no request), listens on PATH (a temporary socket),
// prints `ready`, answers one GET /v1/health, and exits 0. docs/operations.md "Readiness".
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadConfig } from '../config/load.js';
import { HephError } from '../errors.js';
import type { Deps } from '../platform/deps.js';

/** A probe nobody asks within this long ends itself (the installer gives up sooner). */
export const PROBE_IDLE_MS = 30_000;
/** The line on stdout that says the probe listens. */
export const PROBE_READY = 'ready';

export async function runProbe(deps: Deps, socketPath: string): Promise<number> {
  const { config } = loadConfig(deps.paths.config, deps.env, deps.app);
  if (config.update.mode !== 'off') {
    const { createForgeClient } = await import('../forge/index.js');
    createForgeClient(config, deps);
  }
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && req.url === '/v1/health';
    const body = ok
      ? { ok: true, version: deps.app.version, probe: true, mode: config.update.mode }
      : { error: { code: 'E_NOT_FOUND', message: 'the probe answers GET /v1/health only', hint: null } };
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(ok ? 200 : 404, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      connection: 'close',
    });
    res.end(text, () => {
      if (ok) done(0);
    });
  });
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => (finish = r));
  const idle = setTimeout(() => done(1), PROBE_IDLE_MS);
  const done = (code: number) => {
    clearTimeout(idle);
    server.close();
    server.closeAllConnections();
    rmSync(socketPath, { force: true });
    finish(code);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        new HephError('E_DAEMON', `the probe cannot listen on ${socketPath}: ${(e as Error).message}`, {
          hint: 'the installer chooses this path; report it',
          cause: e,
        }),
      ),
    );
    server.listen(socketPath, resolve);
  });
  process.stdout.write(`${PROBE_READY}\n`);
  return finished;
}
