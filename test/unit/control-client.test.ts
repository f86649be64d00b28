// callDaemon against real unix sockets: answers, "not running" at once, the restart grace (marker
// or hook; counted from the stop while the old daemon drains, on a fake clock), and no retry once
// a request was sent.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  callDaemon,
  RESTART_GRACE_MS,
  RESTART_MARKER_MAX_AGE_MS,
  RESTART_RETRY_MS,
  readStopMarker,
  type StopMarker,
  stopPhase,
} from '../../src/control/client.js';
import { isHephError } from '../../src/errors.js';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';

let home: string;
let paths: Paths;
const servers: Array<{ close(cb?: () => void): unknown }> = [];

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'heph-client-'));
  paths = resolvePaths({ HEPH_HOME: home });
  mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  rmSync(home, { recursive: true, force: true });
});

/** A socket file nobody listens on, as a daemon killed with -9 leaves it (connect: ECONNREFUSED). */
function deadSocket(path: string): void {
  const script =
    "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))";
  try {
    execFileSync(process.execPath, ['-e', script, path], { stdio: 'ignore' });
  } catch {
    // it died by SIGKILL, as intended
  }
}

function freshMarker(ageMs = 0): void {
  writeFileSync(
    paths.stopMarker,
    JSON.stringify({ time: new Date(Date.now() - ageMs).toISOString(), pid: 1 }),
  );
}

function listenJson(status = 200, body: unknown = { ok: true }): Promise<Server> {
  const s = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  servers.push(s);
  return new Promise((r) => s.listen(paths.socket, () => r(s as unknown as Server)));
}

async function expectCode(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isHephError(e, code as never), String(e)).toBe(true);
    return e as Error;
  }
  throw new Error(`expected ${code}`);
}

describe('callDaemon', () => {
  it('returns the parsed answer', async () => {
    await listenJson(200, { running: true });
    expect(await callDaemon(paths, 'GET', '/v1/status')).toEqual({ running: true });
  });

  it('says "not running" at once with no sign of a restart', async () => {
    const e = await expectCode(callDaemon(paths, 'GET', '/v1/status'), 'E_NOT_RUNNING');
    expect(e.message).toContain(paths.socket);
  });

  it('a stale marker is no sign of a restart', async () => {
    freshMarker(RESTART_MARKER_MAX_AGE_MS + 1_000);
    let hookAsked = false;
    await expectCode(
      callDaemon(paths, 'GET', '/v1/status', undefined, {
        restartPlausible: () => {
          hookAsked = true;
          return false;
        },
      }),
      'E_NOT_RUNNING',
    );
    expect(hookAsked).toBe(true);
  });

  it('rides out a restart: retries ENOENT while the marker is fresh, succeeds when the daemon is back', async () => {
    freshMarker();
    const pending = callDaemon(paths, 'GET', '/v1/status');
    await new Promise((r) => setTimeout(r, 600));
    await listenJson(200, { running: true, back: true });
    expect(await pending).toEqual({ running: true, back: true });
  });

  it('the restartPlausible hook alone starts the grace (ECONNREFUSED on a dead socket file)', async () => {
    // A socket file nobody listens on, as a crashed daemon leaves it: bound by a process that exited.
    deadSocket(paths.socket);
    let asked = 0;
    const pending = callDaemon(paths, 'GET', '/v1/health', undefined, {
      restartPlausible: () => {
        asked++;
        return true;
      },
    });
    await new Promise((r) => setTimeout(r, 400));
    unlinkSync(paths.socket);
    await listenJson(200, { ok: true });
    expect(await pending).toEqual({ ok: true });
    expect(asked).toBe(1);
  });

  it('never retries once the request was sent: a dropped connection fails fast with E_DAEMON', async () => {
    freshMarker();
    let connections = 0;
    const s = createNetServer((sock) => {
      connections++;
      sock.once('data', () => sock.destroy());
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(paths.socket, () => r()));
    await expectCode(callDaemon(paths, 'POST', '/v1/update/check', {}), 'E_DAEMON');
    expect(connections).toBe(1);
  });

  it('an error answer becomes E_DAEMON with the daemon message', async () => {
    await listenJson(400, { error: { code: 'E_USAGE', message: 'bad thing', hint: 'do this' } });
    const e = await expectCode(callDaemon(paths, 'POST', '/v1/update/pause', { for: 'x' }), 'E_DAEMON');
    expect(e.message).toContain('bad thing');
  });

  it('a 503 from /v1/health is an answer, not an error', async () => {
    await listenJson(503, { ok: false, reason: 'degraded' });
    expect(await callDaemon(paths, 'GET', '/v1/health')).toEqual({ ok: false, reason: 'degraded' });
  });
  /** A server that answers every request with these raw bytes, then closes. */
  async function listenRaw(raw: string): Promise<void> {
    const s = createNetServer((sock) => {
      sock.once('data', () => sock.end(raw));
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(paths.socket, () => r()));
  }

  it('reads a chunked answer', async () => {
    const body = JSON.stringify({ running: true, chunked: 'yes' });
    const [a, b] = [body.slice(0, 10), body.slice(10)];
    const chunks = `${a.length.toString(16)}\r\n${a}\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`;
    await listenRaw(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`);
    expect(await callDaemon(paths, 'GET', '/v1/status')).toEqual({ running: true, chunked: 'yes' });
  });

  it('reads an answer without a length up to the close', async () => {
    await listenRaw('HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{"running":true}');
    expect(await callDaemon(paths, 'GET', '/v1/status')).toEqual({ running: true });
  });

  it('an answer cut short of its content-length is E_DAEMON, not a parsed half', async () => {
    await listenRaw('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"running":');
    const e = await expectCode(callDaemon(paths, 'GET', '/v1/status'), 'E_DAEMON');
    expect(e.message).toContain('mid-answer');
  });

  it('something that is not HTTP is E_DAEMON', async () => {
    await listenRaw('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    const e = await expectCode(callDaemon(paths, 'GET', '/v1/status'), 'E_DAEMON');
    expect(e.message).toContain('not HTTP');
  });
});

const T = Date.parse('2026-03-01T12:00:00Z');
const iso = (t: number) => new Date(t).toISOString();

/** A marker as src/daemon/lifecycle.ts writes it: drain began at `began`, may last `drainMs`. */
function drainMarker(pid: number, began: number, drainMs: number, stoppedAt?: number): void {
  const m: Record<string, unknown> = {
    pid,
    version: '0.1.0',
    reason: 'self-update',
    time: iso(began),
    stoppingAt: iso(began),
    drainDeadline: iso(began + drainMs),
  };
  if (stoppedAt !== undefined) m.stoppedAt = iso(stoppedAt);
  writeFileSync(paths.stopMarker, JSON.stringify(m));
}

/** A pid that ran and has exited (a daemon killed mid-drain). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

/**
 * A fake clock for callDaemon: each retry pause moves it on by the pause, then runs `at(now)` so
 * a test can change the world (the old daemon finishing its drain, the new one listening).
 */
function fakeClock(start: number, at: (now: number) => void | Promise<void> = () => {}) {
  const c = {
    now: start,
    pauses: 0,
    opts: {
      now: () => c.now,
      sleep: async (ms: number) => {
        c.pauses++;
        c.now += ms;
        await at(c.now);
      },
    },
  };
  return c;
}

describe('stopPhase: is a restart plausible, and from when does the grace count', () => {
  const m = (o: Partial<StopMarker>): StopMarker => ({
    pid: 100,
    stoppingAt: T,
    drainDeadline: T + 30_000,
    stoppedAt: null,
    ...o,
  });
  const alive = () => true;
  const dead = () => false;

  it('draining while the daemon lives and its deadline is ahead, however old the marker', () => {
    expect(stopPhase(m({}), T + 25_000, alive)).toEqual({ phase: 'draining' });
  });

  it('stopped at stoppedAt, plausible for 10 s after it', () => {
    const done = m({ stoppedAt: T + 20_000 });
    expect(stopPhase(done, T + 29_000, alive)).toEqual({ phase: 'stopped', at: T + 20_000 });
    expect(stopPhase(done, T + 20_000 + RESTART_MARKER_MAX_AGE_MS, alive)).toEqual({ phase: 'none' });
  });

  it('a daemon gone without stoppedAt (killed mid-drain) counts from when its drain began', () => {
    expect(stopPhase(m({}), T + 3_000, dead)).toEqual({ phase: 'stopped', at: T });
    expect(stopPhase(m({}), T + RESTART_MARKER_MAX_AGE_MS, dead)).toEqual({ phase: 'none' });
  });

  it('a daemon still there past its deadline counts as stopped at the deadline', () => {
    expect(stopPhase(m({}), T + 31_000, alive)).toEqual({ phase: 'stopped', at: T + 30_000 });
  });

  it('a marker without a drain deadline (older daemons) is the plain 10 s rule', () => {
    const old = m({ drainDeadline: null });
    expect(stopPhase(old, T + 9_000, alive)).toEqual({ phase: 'stopped', at: T });
    expect(stopPhase(old, T + 10_000, alive)).toEqual({ phase: 'none' });
  });

  it('no marker, or one from the future (a clock that jumped), is no sign', () => {
    expect(stopPhase(null, T, alive)).toEqual({ phase: 'none' });
    expect(stopPhase(m({}), T - 1, alive)).toEqual({ phase: 'none' });
  });

  it('reads the marker the daemon writes, and an older one with only `time`', () => {
    drainMarker(77, T, 30_000, T + 5_000);
    expect(readStopMarker(paths.stopMarker)).toEqual({
      pid: 77,
      stoppingAt: T,
      drainDeadline: T + 30_000,
      stoppedAt: T + 5_000,
    });
    writeFileSync(paths.stopMarker, JSON.stringify({ time: iso(T), pid: 1, reason: 'SIGTERM' }));
    expect(readStopMarker(paths.stopMarker)).toEqual({
      pid: 1,
      stoppingAt: T,
      drainDeadline: null,
      stoppedAt: null,
    });
  });
});

describe('callDaemon while the old daemon drains (fake clock)', () => {
  it('waits through a long drain and counts the 8 s from the stop: the next daemon answers', async () => {
    // Drain began 11 s ago (an install holds it); this live process stands in for the old daemon.
    drainMarker(process.pid, T - 11_000, 30_000);
    const stopAt = T + 12_000;
    const upAt = stopAt + RESTART_GRACE_MS - 1_000;
    let listening = false;
    const c = fakeClock(T, async (now) => {
      if (now >= stopAt && now - RESTART_RETRY_MS < stopAt) drainMarker(process.pid, T - 11_000, 30_000, now);
      if (now >= upAt && !listening) {
        listening = true;
        await listenJson(200, { running: true, next: true });
      }
    });
    expect(await callDaemon(paths, 'GET', '/v1/status', undefined, c.opts)).toEqual({
      running: true,
      next: true,
    });
    // 19 s after the first refusal: past the old 8 s, and past the old 10 s of the marker's age.
    expect(c.now).toBe(upAt);
    expect(c.now - T).toBeGreaterThan(RESTART_GRACE_MS);
  });

  it('gives up 8 s after the stop when no daemon comes back', async () => {
    drainMarker(process.pid, T - 11_000, 30_000);
    const stopAt = T + 5_000;
    const c = fakeClock(T, (now) => {
      if (now >= stopAt && now - RESTART_RETRY_MS < stopAt) drainMarker(process.pid, T - 11_000, 30_000, now);
    });
    await expectCode(callDaemon(paths, 'GET', '/v1/status', undefined, c.opts), 'E_NOT_RUNNING');
    expect(c.now).toBeGreaterThan(stopAt + RESTART_GRACE_MS - 2 * RESTART_RETRY_MS);
    expect(c.now).toBeLessThanOrEqual(stopAt + RESTART_GRACE_MS);
  });

  it('a daemon killed mid-drain (pid gone, no stoppedAt) gets the plain 8 s from the first refusal', async () => {
    drainMarker(deadPid(), T - 1_000, 30_000);
    const c = fakeClock(T);
    await expectCode(callDaemon(paths, 'GET', '/v1/status', undefined, c.opts), 'E_NOT_RUNNING');
    expect(c.now - T).toBeLessThanOrEqual(RESTART_GRACE_MS);
    expect(c.now - T).toBeGreaterThan(RESTART_GRACE_MS - 2 * RESTART_RETRY_MS);
  });

  it('a drain that ended over 10 s ago is no sign: "not running" without a single retry', async () => {
    drainMarker(process.pid, T - 40_000, 30_000, T - RESTART_MARKER_MAX_AGE_MS - 1);
    const c = fakeClock(T);
    await expectCode(callDaemon(paths, 'GET', '/v1/status', undefined, c.opts), 'E_NOT_RUNNING');
    expect(c.pauses).toBe(0);
  });
});
