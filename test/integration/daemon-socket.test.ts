// A real hephd (mode off, no forge) and its control socket: permissions, hostile clients, the
// single-instance rule, stale-socket takeover, socket activation and the update-available hint.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEPH, HEPHD, runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { expectSpecStatus } from '../helpers/spec-status.js';
import {
  plainProbeRoot,
  type RunningDaemon,
  socketRequest,
  startDaemon,
  waitFor,
} from '../helpers/daemon.js';

/** systemd-socket-activate (systemd's own tool) plays the socket unit; without it this test cannot run. */
const hasActivate = spawnSync('systemd-socket-activate', ['--help'], { stdio: 'ignore' }).status === 0;
if (!hasActivate && process.env.CI !== 'true') {
  console.log(
    'skipping the socket-activation test: systemd-socket-activate is not installed (apt-get install systemd)',
  );
}
/** Under CI=true a missing tool fails the test instead of skipping it. */
const activationIt = hasActivate || process.env.CI === 'true' ? it : it.skip;

let s: Scratch;
const running: RunningDaemon[] = [];

beforeEach(() => {
  s = scratch('heph-sock-');
  s.writeConfig('[update]\nmode = "off"\n');
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('SIGKILL').catch(() => {});
  s.cleanup();
});

async function start(env: Record<string, string> = {}): Promise<RunningDaemon> {
  const d = await startDaemon({ home: s.home, env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot(), ...env } });
  running.push(d);
  return d;
}

/** Writes raw bytes on a fresh connection and returns everything the daemon sent back. */
function raw(socket: string, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let got = '';
    c.on('data', (b) => (got += b.toString('utf8')));
    c.on('error', () => resolve(got));
    c.on('close', () => resolve(got));
    c.write(bytes);
  });
}

/**
 * Sends `head`, then 10 MB of body in 64 KiB pieces (framed by `frame`) until the daemon answers:
 * like a client that stops sending once refused, so the answer is read rather than lost to EPIPE.
 * Resolves with what was read, or with the socket error when the daemon's close (with our unread
 * bytes still queued) reset the connection before its 413 could be read — which happens on a
 * loaded machine and is also a refusal; what matters is that the daemon is unhurt afterwards.
 */
function flood(socket: string, head: string, frame: (chunk: string) => string): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let got = '';
    let sent = 0;
    const piece = 'a'.repeat(64 * 1024);
    c.on('data', (b) => (got += b.toString('utf8')));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(got || `reset: ${e.code}`));
    c.on('close', () => resolve(got));
    // One piece at a time, yielding between pieces so an answer is read before the next write.
    const pump = () => {
      if (got !== '' || sent >= 10 * 1024 * 1024 || c.destroyed) return;
      sent += piece.length;
      c.write(frame(piece), () => setTimeout(pump, 1));
    };
    c.write(head, pump);
  });
}

describe('the control socket of a real hephd', () => {
  it('lives in a 0700 folder with mode 0600, and curl can read the status', async () => {
    const d = await start();
    expect(statSync(join(s.home, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(d.socket).mode & 0o777).toBe(0o600);
    const out = execFileSync('curl', ['-s', '--unix-socket', d.socket, 'http://heph/v1/status'], {
      encoding: 'utf8',
    });
    const doc = JSON.parse(out);
    expect(doc).toMatchObject({ running: true, pid: d.pid, supervisor: 'none', mode: 'off' });
    expectSpecStatus(doc);
  });

  it('garbage bytes, a 10 MB body and a slow client do not hurt it', async () => {
    const d = await start();
    const garbage = await raw(d.socket, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10, 71, 69, 84]));
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(garbage).toContain('"error"');
    const hugeHeader = await raw(
      d.socket,
      `GET /v1/status HTTP/1.1\r\nHost: heph\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`,
    );
    expect(hugeHeader).toMatch(/^HTTP\/1\.1 431/);

    const slow = connect(d.socket);
    slow.on('error', () => {});
    slow.write('GET /v1/status HTTP/1.1\r\nHost: heph\r\n'); // never finishes its headers

    const head = 'POST /v1/update/pause HTTP/1.1\r\nHost: heph\r\nContent-Type: application/json\r\n';
    const big = await flood(d.socket, `${head}Content-Length: ${10 * 1024 * 1024}\r\n\r\n`, (c) => c);
    expect(big).toMatch(/^(HTTP\/1\.1 413|reset: (ECONNRESET|EPIPE))/);
    const chunked = await flood(
      d.socket,
      `${head}Transfer-Encoding: chunked\r\n\r\n`,
      (c) => `${c.length.toString(16)}\r\n${c}\r\n`,
    );
    expect(chunked).toMatch(/^(HTTP\/1\.1 413|reset: (ECONNRESET|EPIPE))/);

    expect((await d.call('GET', '/v1/health')).body).toEqual({ ok: true });
    expect((await d.call('GET', '/v1/nope')).status).toBe(404);
    expect((await d.call('DELETE', '/v1/status')).status).toBe(405);
    const badJson = await socketRequest(d.socket, 'POST', '/v1/update/pause', undefined);
    expect(badJson.status).toBe(200); // an empty body is {}: pause until resumed
    const notJson = await raw(
      d.socket,
      'POST /v1/update/pause HTTP/1.1\r\nHost: heph\r\nConnection: close\r\nContent-Length: 3\r\n\r\n{x}',
    );
    expect(notJson).toMatch(/^HTTP\/1\.1 400/);
    expect(notJson).toContain('E_USAGE');
    const badFor = await d.call('POST', '/v1/update/pause', { for: 'soon' });
    expect(badFor.status).toBe(400);
    expect(badFor.body.error.code).toBe('E_USAGE');
    slow.destroy();
    expect(d.proc.exitCode).toBeNull();
    expect((await d.call('GET', '/v1/status')).body.running).toBe(true);
  });

  it('a second hephd refuses to start while one runs, naming its pid', async () => {
    const d = await start();
    const second = await startDaemon({
      home: s.home,
      noWait: true,
      env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot() },
    });
    const r = await second.exited;
    expect(r.code).toBe(1);
    expect(second.output()).toContain(`pid ${d.pid}`);
    expect(second.output()).toContain('already running');
    expect((await d.call('GET', '/v1/health')).status).toBe(200);
  });

  it("takes over a crashed daemon's stale socket", async () => {
    const d = await start();
    await d.stop('SIGKILL');
    running.splice(running.indexOf(d), 1);
    expect(existsSync(d.socket)).toBe(true); // kill -9 leaves the socket file behind
    const next = await start();
    expect(next.pid).not.toBe(d.pid);
    expect((await next.call('GET', '/v1/status')).body.pid).toBe(next.pid);
    expect(next.output()).toContain('stale socket');
  });

  activationIt(
    'with systemd socket activation it listens on fd 3 and never unlinks that socket',
    async () => {
      const sock = join(s.home, 'activated.sock');
      // systemd-socket-activate binds, then execs us with LISTEN_PID = our pid and the socket as fd 3.
      const proc = spawn(
        'systemd-socket-activate',
        [
          '-l',
          sock,
          '-E',
          `HEPH_HOME=${s.home}`,
          '-E',
          `HEPH_DEV_PROBE_ROOT=${plainProbeRoot()}`,
          process.execPath,
          HEPHD,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      proc.stdout.on('data', (b) => (out += b));
      proc.stderr.on('data', (b) => (out += b));
      const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      try {
        await waitFor('the activated daemon', async () => {
          try {
            return (
              (await socketRequest(sock, 'GET', '/v1/status', undefined, 2_000)).body.socketActivated === true
            );
          } catch {
            return false;
          }
        });
        expect(existsSync(join(s.home, 'run', 'hephd.sock'))).toBe(false);
        process.kill(proc.pid!, 'SIGTERM');
        expect(await exited).toBe(0);
        expect(existsSync(sock)).toBe(true);
      } finally {
        if (proc.exitCode === null) process.kill(proc.pid!, 'SIGKILL');
        if (out.includes('"level":50')) console.log(out);
      }
    },
  );

  it('the update notice (from state.json only) goes to a terminal, once a day, never with --json or from status', async () => {
    mkdirSync(join(s.home, 'state'), { recursive: true });
    writeFileSync(join(s.home, 'state', 'state.json'), JSON.stringify({ candidate: '99.0.0' }));
    const notice = 'heph: update available: 99.0.0 (run `heph update apply`)';
    // a script or a pipe never gets it
    expect((await runHeph(['config', 'path'], s.env)).stderr).not.toContain('update available');
    // a person at a terminal: util-linux `script` gives the command a pty
    const atTerminal = (args: string[]) =>
      spawnSync('script', ['-qec', [process.execPath, HEPH, ...args].join(' '), '/dev/null'], {
        env: { ...s.env, PATH: process.env.PATH },
        encoding: 'utf8',
        timeout: 30_000,
      }).stdout;
    expect(atTerminal(['config', 'path', '--json'])).not.toContain('update available');
    expect(atTerminal(['status'])).not.toContain('update available');
    expect(atTerminal(['config', 'path'])).toContain(notice);
    expect(atTerminal(['config', 'path'])).not.toContain('update available'); // once a day
    rmSync(join(s.home, 'state', 'update-notice.json'));
    writeFileSync(join(s.home, 'state', 'state.json'), JSON.stringify({ candidate: '0.0.1' }));
    expect(atTerminal(['config', 'path'])).not.toContain('update available');
  });
});
