// hephd's life as a process: bad config exits 78, the health mark, SIGTERM drains (socket gone
// first, a running check abandoned, a request still arriving held up to drain_timeout), a second
// signal exits at once. test/integration/daemon-drain.test.ts has the drain as clients see it.
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RunningDaemon, startDaemon, waitFor } from '../helpers/daemon.js';
import { notifyBed } from '../helpers/notify-bed.js';

const bed = notifyBed('heph-dlife-');

/** Starts POST /v1/update/check against a slow forge and waits until the daemon is busy with it. */
async function inFlightCheck(d: RunningDaemon, slowMs: number) {
  bed.forge.failNext({ kind: 'slow', ms: slowMs }, 1, 'api');
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
    bed.s.writeConfig('[update]\nmode = "sometimes"\n');
    const d = await startDaemon({ home: bed.s.home, noWait: true });
    expect((await d.exited).code).toBe(78);
    expect(d.output()).toContain('update.mode');
  });

  it('marks its version healthy after restart.health_grace', async () => {
    bed.config('health_grace = "1s"\n');
    await bed.start();
    const file = join(bed.s.home, 'state', 'launcher.json');
    await waitFor(
      'the health mark',
      () => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).healthy.length > 0,
    );
    expect(JSON.parse(readFileSync(file, 'utf8')).healthy).toEqual(['0.1.0']);
  });

  it('SIGTERM: the socket goes first, a running check is answered at once (abandoned), exit 0 with a stop marker', async () => {
    bed.config();
    const d = await bed.start();
    const flight = await inFlightCheck(d, 60_000);
    process.kill(d.pid, 'SIGTERM');
    await waitFor('the socket to disappear', () => !existsSync(d.socket));
    const a = await flight.answer;
    expect(a.status).toBe(500);
    expect(a.body.error.code).toBe('E_DAEMON');
    expect((await d.exited).code).toBe(0);
    const marker = JSON.parse(readFileSync(join(bed.s.home, 'run', 'hephd.stopped'), 'utf8'));
    expect(marker).toMatchObject({ pid: d.pid, reason: 'signal', detail: 'SIGTERM' });
    expect(typeof marker.stoppedAt).toBe('string');
    const logs = d.logs().map((l) => l.msg);
    expect(logs).toContain('stopping');
    expect(logs).toContain('stopped');
  });

  it('exits 0 at drain_timeout even when a request is still arriving', async () => {
    bed.config('drain_timeout = "1s"\n');
    const d = await bed.start();
    const slow = await arriving(d);
    process.kill(d.pid, 'SIGTERM');
    expect((await d.exited).code).toBe(0);
    expect(await slow.outcome).toBe('cut');
  });

  it('drain_timeout past setTimeout\'s 24.8 days ("30d") still holds a request that is arriving', async () => {
    bed.config('drain_timeout = "30d"\n');
    const d = await bed.start();
    const socket = createConnection(d.socket);
    let text = '';
    socket.setEncoding('utf8').on('data', (c: string) => (text += c));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => {});
    const body = '{"for":"1h"}';
    socket.write(
      `POST /v1/update/pause HTTP/1.1\r\nhost: heph\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 6)}`,
    );
    await waitFor(
      'the daemon to hold the request',
      async () => (await d.call('GET', '/v1/health')).status > 0,
    );
    process.kill(d.pid, 'SIGTERM');
    await waitFor('the socket to disappear', () => !existsSync(d.socket));
    // Before the fix the 30-day deadline overflowed to 1 ms and the request was cut here.
    socket.write(body.slice(6));
    await closed;
    expect(text).toMatch(/^HTTP\/1.1 200/);
    expect((await d.exited).code).toBe(0);
    expect(d.output()).not.toContain('TimeoutOverflowWarning');
  });

  it('a second signal exits at once', async () => {
    bed.config('drain_timeout = "60s"\n');
    const d = await bed.start();
    const slow = await arriving(d);
    process.kill(d.pid, 'SIGTERM');
    await waitFor('the socket to disappear', () => !existsSync(d.socket));
    process.kill(d.pid, 'SIGINT');
    expect((await d.exited).code).toBe(1);
    expect(await slow.outcome).toBe('cut');
  });

  it('a log reader that goes away (EPIPE) does not end the daemon; SIGHUP reloads, SIGTERM drains', async () => {
    bed.config();
    const d = await bed.start();
    d.proc.stdout!.destroy(); // the read end of its stdout pipe is gone
    for (let i = 0; i < 3; i++) expect((await d.call('POST', '/v1/update/pause', {})).status).toBe(200);
    expect((await d.call('GET', '/v1/health')).status).toBe(200);
    expect(d.proc.exitCode).toBeNull();
    process.kill(d.pid, 'SIGHUP'); // live reload (docs/operations.md), not a stop
    const auditFile = join(bed.s.home, 'state', 'audit.jsonl');
    await waitFor(
      'the reload',
      () => existsSync(auditFile) && readFileSync(auditFile, 'utf8').includes('config.reloaded'),
    );
    expect((await d.call('GET', '/v1/health')).status).toBe(200);
    expect(d.proc.exitCode).toBeNull();
    expect((await d.stop('SIGTERM')).code).toBe(0);
  });
});
