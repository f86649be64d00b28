// The control server in-process: socket path limits, the run folder's mode, stale-socket probing,
// and a close that unlinks only its own socket while finishing the answer in flight.
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEPH_NAMES } from '../../src/app/identity.js';
import type { DaemonApi } from '../../src/control/routes.js';
import {
  assertSocketPath,
  ensureRunDir,
  MAX_SOCKET_PATH_BYTES,
  probeSocket,
  startControlServer,
} from '../../src/control/server.js';
import { silentLogger } from '../../src/platform/logger.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'heph-srv-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fakeApi(checkGate?: Promise<void>): DaemonApi {
  return {
    health: () => ({ ok: true }),
    status: () => ({ running: true }),
    check: async () => {
      await checkGate;
      return { candidate: null };
    },
    apply: async () => ({}),
    pause: () => ({}),
    resume: () => ({}),
  };
}

function post(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.end();
  });
}

describe('control server', () => {
  it('refuses a socket path the kernel cannot hold, with a hint', () => {
    expect(() => assertSocketPath(`/${'x'.repeat(MAX_SOCKET_PATH_BYTES)}`)).toThrow(/too long/);
    expect(() => assertSocketPath(`/${'x'.repeat(MAX_SOCKET_PATH_BYTES)}`)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    expect(() => assertSocketPath('/run/user/1000/heph/hephd.sock')).not.toThrow();
  });

  it('creates the run folder 0700 and tightens a looser one', () => {
    const run = join(dir, 'run');
    ensureRunDir(run);
    expect(statSync(run).mode & 0o777).toBe(0o700);
    chmodSync(run, 0o755);
    ensureRunDir(run);
    expect(statSync(run).mode & 0o777).toBe(0o700);
  });

  it('probes absent, live and stale sockets', async () => {
    const sock = join(dir, 's.sock');
    expect(await probeSocket(sock)).toBe('absent');
    const server = await startControlServer({
      socketPath: sock,
      api: fakeApi(),
      logger: silentLogger(),
      env: {},
      app: HEPH_NAMES,
    });
    expect(await probeSocket(sock)).toBe('live');
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    await server.close(1_000);
    expect(existsSync(sock)).toBe(false);
  });

  it('close: the socket is gone at once, the answer in flight still arrives', async () => {
    const sock = join(dir, 's.sock');
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => (open = r));
    const server = await startControlServer({
      socketPath: sock,
      api: fakeApi(gate),
      logger: silentLogger(),
      env: {},
      app: HEPH_NAMES,
    });
    const answer = post(sock, '/v1/update/check');
    await new Promise((r) => setTimeout(r, 100));
    expect(server.inFlight()).toBe(1);
    const closing = server.close(10_000);
    expect(existsSync(sock)).toBe(false);
    open();
    expect(await answer).toBe(200);
    await closing;
    expect(server.inFlight()).toBe(0);
  });

  it('answers or closes on any bytes, and keeps serving (fuzz)', async () => {
    const sock = join(dir, 's.sock');
    const server = await startControlServer({
      socketPath: sock,
      api: fakeApi(),
      logger: silentLogger(),
      env: {},
      app: HEPH_NAMES,
    });
    const send = (bytes: Uint8Array) =>
      new Promise<string>((resolve) => {
        const c = connect(sock);
        let got = '';
        c.on('data', (b) => (got += b.toString('latin1')));
        c.on('error', () => resolve(got));
        c.on('close', () => resolve(got));
        c.end(bytes); // half-close: the server sees the end of the request
      });
    const line = fc.constantFrom('GET /v1/status HTTP/1.1\r\n', 'POST /v1/update/pause HTTP/1.1\r\n', '');
    const payload = fc
      .tuple(line, fc.uint8Array({ maxLength: 600 }))
      .map(([l, b]) => Buffer.concat([Buffer.from(l), b]));
    await fc.assert(
      fc.asyncProperty(payload, async (bytes) => {
        const got = await send(bytes);
        // Either nothing (the request never completed) or a well-formed HTTP answer.
        return got === '' || /^HTTP\/1\.1 \d{3} /.test(got);
      }),
      { numRuns: 150 },
    );
    expect(await probeSocket(sock)).toBe('live');
    await server.close(1_000);
  });
});
