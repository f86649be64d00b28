// hephd's life as a process: bad config exits 78, the health mark, SIGTERM drains (socket gone
// first, a running check abandoned, a request still arriving held up to drain_timeout), a second
// signal exits at once. test/integration/daemon-drain.test.ts has the drain as clients see it.
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Scratch, scratch } from '../helpers/cli.js';
import { plainProbeRoot, type RunningDaemon, startDaemon, waitFor } from '../helpers/daemon.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

let s: Scratch;
let forge: TestForge;
const running: RunningDaemon[] = [];

beforeEach(async () => {
  s = scratch('heph-dlife-');
  forge = await startForge({ kind: 'github' });
  forge.publish({ tag: 'v0.1.1', assets: [{ name: 'heph-0.1.1.tgz', content: 'x' }] });
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('SIGKILL').catch(() => {});
  await forge.close();
  s.cleanup();
});

/** notify mode without the scale knob: the first timed check is ≥ 30 s away, so only tests ask. */
function config(restart = ''): void {
  s.writeConfig(
    `[update]\nmode = "notify"\n\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n\n[restart]\n${restart}`,
  );
}

async function start(): Promise<RunningDaemon> {
  const d = await startDaemon({ home: s.home, env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot() } });
  running.push(d);
  return d;
}

/** Starts POST /v1/update/check against a slow forge and waits until the daemon is busy with it. */
async function inFlightCheck(d: RunningDaemon, slowMs: number) {
  forge.failNext({ kind: 'slow', ms: slowMs }, 1, 'api');
  let answered = false;
  const answer = d.call('POST', '/v1/update/check').then((a) => {
    answered = true;
    return a;
  });
  await waitFor(
    'the check to be running',
    async () => (await d.call('GET', '/v1/status')).body.update.checking,
  );
  return { answer, answered: () => answered };
}

/**
 * A request whose body is still arriving (5 of 10 declared bytes): the daemon has begun to
 * answer it, so the drain waits for it, up to drain_timeout. Resolves once the daemon holds it.
 */
async function arriving(d: RunningDaemon): Promise<{ socket: Socket; outcome: Promise<'answered' | 'cut'> }> {
  const socket = createConnection(d.socket);
  let text = '';
  socket.setEncoding('utf8').on('data', (c: string) => (text += c));
  const outcome = new Promise<'answered' | 'cut'>((r) => {
    socket.on('error', () => {});
    socket.on('close', () => r(text.startsWith('HTTP/1.1') ? 'answered' : 'cut'));
  });
  socket.write(
    'POST /v1/update/pause HTTP/1.1\r\nhost: heph\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{"for"',
  );
  await waitFor('the daemon to hold the request', async () => (await d.call('GET', '/v1/health')).status > 0);
  return { socket, outcome };
}

describe('hephd lifecycle', () => {
  it('refuses an invalid config with exit 78 (the unit does not respawn on it)', async () => {
    s.writeConfig('[update]\nmode = "sometimes"\n');
    const d = await startDaemon({ home: s.home, noWait: true });
    expect((await d.exited).code).toBe(78);
    expect(d.output()).toContain('update.mode');
  });

  it('marks its version healthy after restart.health_grace', async () => {
    config('health_grace = "1s"\n');
    await start();
    const file = join(s.home, 'state', 'launcher.json');
    await waitFor(
      'the health mark',
      () => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).healthy.length > 0,
    );
    expect(JSON.parse(readFileSync(file, 'utf8')).healthy).toEqual(['0.1.0']);
  });

  it('SIGTERM: the socket goes first, a running check is answered at once (abandoned), exit 0 with a stop marker', async () => {
    config();
    const d = await start();
    const flight = await inFlightCheck(d, 60_000);
    process.kill(d.pid, 'SIGTERM');
    await waitFor('the socket to disappear', () => !existsSync(d.socket));
    const a = await flight.answer;
    expect(a.status).toBe(500);
    expect(a.body.error.code).toBe('E_DAEMON');
    expect((await d.exited).code).toBe(0);
    const marker = JSON.parse(readFileSync(join(s.home, 'run', 'hephd.stopped'), 'utf8'));
    expect(marker).toMatchObject({ pid: d.pid, reason: 'signal', detail: 'SIGTERM' });
    expect(typeof marker.stoppedAt).toBe('string');
    const logs = d.logs().map((l) => l.msg);
    expect(logs).toContain('stopping');
    expect(logs).toContain('stopped');
  });

  it('exits 0 at drain_timeout even when a request is still arriving', async () => {
    config('drain_timeout = "1s"\n');
    const d = await start();
    const slow = await arriving(d);
    process.kill(d.pid, 'SIGTERM');
    expect((await d.exited).code).toBe(0);
    expect(await slow.outcome).toBe('cut');
  });

  it('a second signal exits at once', async () => {
    config('drain_timeout = "60s"\n');
    const d = await start();
    const slow = await arriving(d);
    process.kill(d.pid, 'SIGTERM');
    await waitFor('the socket to disappear', () => !existsSync(d.socket));
    process.kill(d.pid, 'SIGINT');
    expect((await d.exited).code).toBe(1);
    expect(await slow.outcome).toBe('cut');
  });

  it('a log reader that goes away (EPIPE) does not end the daemon; SIGHUP drains like SIGTERM', async () => {
    config();
    const d = await start();
    d.proc.stdout!.destroy(); // the read end of its stdout pipe is gone
    for (let i = 0; i < 3; i++) expect((await d.call('POST', '/v1/update/pause', {})).status).toBe(200);
    expect((await d.call('GET', '/v1/health')).status).toBe(200);
    expect(d.proc.exitCode).toBeNull();
    expect((await d.stop('SIGHUP')).code).toBe(0);
  });
});
