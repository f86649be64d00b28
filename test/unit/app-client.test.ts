// The library's clients (docs/api.md "Clients") against real unix sockets: controlClient's
// requests and answers, its errors in the app's own names, the restart grace with either sign
// (stop marker, or the service manager starting the unit: a stand-in `systemctl` on PATH, as in
// control-unit-state.test.ts), and app.connect / connectWithGrace for an app's own socket.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlClient } from '../../src/lib/client.js';
import { defineApp } from '../../src/lib/define.js';
import { connectWithGrace } from '../../src/control/grace.js';
import { type HephError, isHephError } from '../../src/errors.js';

let home: string;
let env: Record<string, string>;
const servers: Server[] = [];
const app = defineApp({ name: 'acme', version: '1.0.0', entry: 'dist/acme.mjs' });

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'lib-client-'));
  // No systemctl on PATH and no unit: no sign of a restart unless a test adds one.
  env = { ACME_HOME: home, XDG_CONFIG_HOME: join(home, 'xdg'), PATH: join(home, 'bin') };
  mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, 'bin'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  rmSync(home, { recursive: true, force: true });
});

interface Seen {
  method: string;
  url: string;
  body: unknown;
}

/** A stand-in daemon on the app's control socket: answers `reply(request)` and records requests. */
async function daemon(socket: string, reply: (r: Seen) => [number, unknown]): Promise<Seen[]> {
  const seen: Seen[] = [];
  const s = createHttpServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', body: text ? JSON.parse(text) : undefined };
      seen.push(r);
      const [status, body] = reply(r);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(socket, () => r()));
  return seen;
}

/** The service manager says acmed is starting: a user unit file and a systemctl that says so. */
function unitActivating(): void {
  const unit = join(env.XDG_CONFIG_HOME!, 'systemd', 'user', 'acmed.service');
  mkdirSync(dirname(unit), { recursive: true });
  writeFileSync(unit, '[Service]\n');
  const systemctl = join(env.PATH!, 'systemctl');
  writeFileSync(systemctl, '#!/bin/sh\necho activating\nexit 3\n');
  chmodSync(systemctl, 0o755);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('controlClient', () => {
  it("speaks the app's control socket: each method, its path and body", async () => {
    const client = controlClient('acme', { env });
    expect(client.paths.socket).toBe(join(home, 'run', 'acmed.sock'));
    const seen = await daemon(client.paths.socket, (r) =>
      r.url === '/v1/health' ? [503, { ok: false, reason: 'draining' }] : [200, { echo: r.url }],
    );
    expect(await client.status()).toEqual({ echo: '/v1/status' });
    expect(await client.health()).toEqual({ ok: false, reason: 'draining' });
    await client.check();
    await client.pause('2h');
    await client.pause();
    await client.resume();
    await client.apply('1.2.3');
    expect(seen).toEqual([
      { method: 'GET', url: '/v1/status', body: undefined },
      { method: 'GET', url: '/v1/health', body: undefined },
      { method: 'POST', url: '/v1/update/check', body: {} },
      { method: 'POST', url: '/v1/update/pause', body: { for: '2h' } },
      { method: 'POST', url: '/v1/update/pause', body: {} },
      { method: 'POST', url: '/v1/update/resume', body: {} },
      { method: 'POST', url: '/v1/update/apply', body: { installed: '1.2.3' } },
    ]);
  });

  it("says what is wrong in the app's own names (acmed, `acme daemon start`), not heph's", async () => {
    const e = await rejection(controlClient('acme', { env }).status());
    expect(isHephError(e, 'E_NOT_RUNNING')).toBe(true);
    const { message, hint, details } = e as HephError;
    expect(message).toBe(`acmed is not running (socket ${join(home, 'run', 'acmed.sock')})`);
    expect(hint).toContain('`acme daemon start`');
    expect(`${message} ${hint}`).not.toMatch(/heph/);
    expect(details.socket).toBe(join(home, 'run', 'acmed.sock'));
  });

  it("a refusal from the daemon keeps its code and status, in the app's names", async () => {
    const client = controlClient(app.identity, { env });
    await daemon(client.paths.socket, () => [409, { error: { code: 'E_LOCKED', message: 'hephd is busy' } }]);
    const e = (await rejection(client.check())) as HephError;
    expect(e.code).toBe('E_DAEMON');
    expect(e.message).toBe('acmed refused POST /v1/update/check: acmed is busy');
    expect(e.details).toEqual({ status: 409, code: 'E_LOCKED' });
  });

  it.each([['../x'], ['acme/x'], [''], ['ACME']])(
    'refuses the app name %j (E_APP naming the field)',
    (name) => {
      let e: unknown;
      try {
        controlClient(name, { env });
      } catch (err) {
        e = err;
      }
      expect(isHephError(e, 'E_APP')).toBe(true);
      expect((e as HephError).details.field).toBe('app');
    },
  );

  it('rides out a restart the service manager reports (unit activating, no stop marker)', async () => {
    unitActivating();
    const client = controlClient('acme', { env });
    const pending = client.status();
    await new Promise((r) => setTimeout(r, 400));
    await daemon(client.paths.socket, () => [200, { running: true }]);
    expect(await pending).toEqual({ running: true });
  });
});

describe("an app's own socket", () => {
  /** A server on `path` that greets each connection. */
  async function greeter(path: string): Promise<void> {
    const s = createNetServer((sock) => sock.end('hello\n'));
    servers.push(s);
    await new Promise<void>((r) => s.listen(path, () => r()));
  }
  const read = (sock: NodeJS.ReadableStream) =>
    new Promise<string>((resolve) => {
      let text = '';
      sock.on('data', (c: Buffer) => {
        text += c.toString();
      });
      sock.on('end', () => resolve(text));
    });

  it('app.connect rides out a restart the service manager reports', async () => {
    unitActivating();
    const path = join(home, 'run', 'acme.sock');
    const pending = app.connect(path, { env });
    await new Promise((r) => setTimeout(r, 400));
    await greeter(path);
    expect(await read(await pending)).toBe('hello\n');
  });

  it('connectWithGrace rides out a restart the stop marker shows, and fails at once without one', async () => {
    const paths = app.paths(env);
    const path = join(home, 'run', 'acme.sock');
    const none = (await rejection(
      connectWithGrace(path, { stopMarker: paths.stopMarker }),
    )) as NodeJS.ErrnoException;
    expect(none.code).toBe('ENOENT');
    expect(none.message).toContain(path);

    writeFileSync(paths.stopMarker, JSON.stringify({ pid: null, stoppingAt: new Date().toISOString() }));
    const pending = connectWithGrace(path, { stopMarker: paths.stopMarker });
    await new Promise((r) => setTimeout(r, 400));
    await greeter(path);
    expect(await read(await pending)).toBe('hello\n');
  });
});
