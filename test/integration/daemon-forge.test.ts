// Real hephd processes against the loopback forge: mode off asks nothing, notify announces once
// (audit, command, webhook) with conditional requests, failures back off without ending the
// daemon, and what it learned survives a restart. HEPH_DEV_SCHEDULE_SCALE=0.01 with interval 5m
// makes the daemon poll every ~3 s.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { type Scratch, scratch } from '../helpers/cli.js';
import { plainProbeRoot, type RunningDaemon, startDaemon, waitFor } from '../helpers/daemon.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

/** The built bundle's version is package.json's (0.1.0): 0.1.1 is a patch, allowed by the caret rule. */
const NEXT = '0.1.1';
const SCALE = '0.01';
/** Waits long enough for several scaled polls on a slow machine. */
const POLL_WAIT_MS = 30_000;

let s: Scratch;
let forge: TestForge;
const running: RunningDaemon[] = [];
const servers: Server[] = [];

beforeEach(async () => {
  s = scratch('heph-dforge-');
  forge = await startForge({ kind: 'github' });
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('SIGKILL').catch(() => {});
  for (const srv of servers.splice(0)) await new Promise((r) => srv.close(r));
  await forge.close();
  s.cleanup();
});

function config(mode: string, extra = ''): void {
  s.writeConfig(
    `[update]\nmode = "${mode}"\ninterval = "5m"\n\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n${extra}`,
  );
}

async function start(env: Record<string, string> = {}): Promise<RunningDaemon> {
  const d = await startDaemon({
    home: s.home,
    env: { HEPH_DEV_SCHEDULE_SCALE: SCALE, HEPH_DEV_PROBE_ROOT: plainProbeRoot(), ...env },
  });
  running.push(d);
  return d;
}

const listRequests = () => forge.requests.filter((r) => r.path.includes('/releases'));
const audit = () => readAudit(join(s.home, 'state', 'audit.jsonl')).reverse();
const publishNext = () =>
  forge.publish({ tag: `v${NEXT}`, assets: [{ name: `heph-${NEXT}.tgz`, content: 'x' }] });

describe('hephd against a loopback forge', () => {
  it('mode off makes no forge request at all, and still serves status', async () => {
    config('off');
    publishNext();
    const d = await start();
    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.mode).toBe('off');
    expect(st.update.nextCheckAt).toBeNull();
    expect((await d.call('POST', '/v1/update/check')).status).toBe(400);
    // Several scaled poll periods (~3 s each) pass without a single request.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(forge.requests).toEqual([]);
    expect(d.output()).toContain(`${'HEPH_DEV_SCHEDULE_SCALE'} is set`);
  });

  it('notify: announces a candidate once (audit, command, webhook), shows it, and polls with If-None-Match', async () => {
    const hooks: string[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hooks.push(body);
        res.end('ok');
      });
    });
    servers.push(hook);
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const notified = join(s.home, 'notified.txt');
    config(
      'notify',
      `\n[notify]\ncommand = "sh -c 'echo {version} {tag} >> ${notified}'"\nwebhook = "http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook"\n`,
    );
    publishNext();
    const d = await start();
    await waitFor('three polls', () => listRequests().length >= 3, POLL_WAIT_MS);

    const available = audit().filter((e) => e.event === 'update.available');
    expect(available).toHaveLength(1);
    expect(available[0]).toMatchObject({ version: NEXT, tag: `v${NEXT}` });
    expect(readFileSync(notified, 'utf8')).toBe(`${NEXT} v${NEXT}\n`);
    expect(hooks).toHaveLength(1);
    expect(JSON.parse(hooks[0]!)).toMatchObject({ event: 'update.available', version: NEXT });

    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.update).toMatchObject({ candidate: NEXT, latest: NEXT, consecutiveFailures: 0 });
    expect(st.guard.recommendedAction).toContain('heph update apply');
    const [first, ...later] = listRequests();
    expect(first!.headers['if-none-match']).toBeUndefined();
    expect(later.every((r) => r.headers['if-none-match'] !== undefined && r.status === 304)).toBe(true);

    const report = await d.call('POST', '/v1/update/check');
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ candidate: NEXT, available: true });
    expect(audit().filter((e) => e.event === 'update.available')).toHaveLength(1);
  });

  it('5xx, garbage and 429 with Retry-After: stays up, health degrades, the backoff holds', async () => {
    config('notify');
    publishNext();
    forge.failNext({ kind: 'status', status: 503 }, 5, 'api');
    const d = await start();
    await waitFor(
      'five failed checks',
      async () => (await d.call('GET', '/v1/status')).body.update.consecutiveFailures >= 5,
      POLL_WAIT_MS,
    );
    const health = await d.call('GET', '/v1/health');
    expect(health.status).toBe(503);
    expect(health.body.reason).toContain('5 checks failed');

    forge.failNext({ kind: 'garbage' }, 1, 'api');
    await waitFor(
      'the garbage answer',
      async () => (await d.call('GET', '/v1/status')).body.update.lastResult === 'E_FORGE_PAYLOAD',
      POLL_WAIT_MS,
    );

    // Retry-After: 300 s, scaled by 0.01: the next request may not come before 3 s.
    forge.failNext({ kind: 'status', status: 429, headers: { 'retry-after': '300' } }, 1, 'api');
    await waitFor('the 429', () => listRequests().some((r) => r.status === 429), POLL_WAIT_MS);
    const servedAt = Date.now();
    const seen = listRequests().length;
    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.update.lastResult).toBe('E_FORGE_RATE_LIMITED');
    expect(st.update.consecutiveFailures).toBeGreaterThanOrEqual(7);
    await waitFor('the retry', () => listRequests().length > seen, POLL_WAIT_MS);
    expect(Date.now() - servedAt).toBeGreaterThanOrEqual(2_900);

    await waitFor(
      'recovery',
      async () => (await d.call('GET', '/v1/status')).body.update.consecutiveFailures === 0,
      POLL_WAIT_MS,
    );
    expect((await d.call('GET', '/v1/health')).status).toBe(200);
    expect(d.proc.exitCode).toBeNull();
  });

  it.each([
    ['12 h', 12 * 3600, 12 * 3600],
    ['48 h (honoured up to 24 h)', 48 * 3600, 24 * 3600],
  ])(
    'a Retry-After of %s past the interval is honoured: the next check waits that long',
    async (_name, asked, expected) => {
      config('notify');
      forge.failNext({ kind: 'status', status: 429, headers: { 'retry-after': String(asked) } }, 1, 'api');
      const d = await start();
      await waitFor('the 429', () => listRequests().some((r) => r.status === 429), POLL_WAIT_MS);
      await waitFor(
        'the failure recorded',
        async () => (await d.call('GET', '/v1/status')).body.update.lastResult === 'E_FORGE_RATE_LIMITED',
        POLL_WAIT_MS,
      );
      const st = (await d.call('GET', '/v1/status')).body;
      // Schedule time runs 100× faster here (HEPH_DEV_SCHEDULE_SCALE 0.01): seconds are 1/100 s.
      const waitMs = (Date.parse(st.update.nextCheckAt) - Date.parse(st.update.lastCheckAt)) / Number(SCALE);
      expect(waitMs).toBeGreaterThanOrEqual(expected * 1000 - 60_000);
      expect(waitMs).toBeLessThanOrEqual(expected * 1000 + 120_000);
    },
  );

  it('a chaotic forge (seeded: 5xx, 429, garbage, slow) never ends the daemon, and it gets through', async () => {
    config('notify');
    publishNext();
    forge.setChaos({ seed: 7, rate: 0.6 });
    const d = await start();
    await waitFor('six polls', () => listRequests().length >= 6, POLL_WAIT_MS * 2);
    expect(d.proc.exitCode).toBeNull();
    expect([200, 503]).toContain((await d.call('GET', '/v1/health')).status);
    forge.setChaos(null);
    await waitFor(
      'a good check',
      async () => (await d.call('GET', '/v1/status')).body.update.candidate === NEXT,
      POLL_WAIT_MS * 2,
    );
    expect(audit().filter((e) => e.event === 'update.available')).toHaveLength(1);
  });

  it('a forge that is down (connection refused) never ends the daemon', async () => {
    s.writeConfig(
      `[update]\nmode = "notify"\ninterval = "5m"\n\n[forge]\nkind = "github"\nurl = "http://127.0.0.1:9"\nrepo = "a/b"\n`,
    );
    const d = await start();
    await waitFor(
      'two failures',
      async () => (await d.call('GET', '/v1/status')).body.update.consecutiveFailures >= 2,
      POLL_WAIT_MS,
    );
    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.update.lastResult).toBe('E_FORGE_UNREACHABLE');
    expect((await d.call('GET', '/v1/health')).status).toBe(200);
    expect(d.proc.exitCode).toBeNull();
  });

  it('state survives a restart: ETag cache, guard pause, quarantine', async () => {
    config('auto');
    publishNext();
    let d = await start();
    await waitFor('a check', () => listRequests().length >= 1, POLL_WAIT_MS);
    await d.call('POST', '/v1/update/pause', { for: '2h' });
    expect((await d.stop()).code).toBe(0);
    running.splice(0);
    expect(existsSync(join(s.home, 'state', 'http-cache.json'))).toBe(true);

    mkdirSync(join(s.home, 'state'), { recursive: true });
    writeFileSync(
      join(s.home, 'state', 'launcher.json'),
      JSON.stringify({
        v: 1,
        attempts: {},
        healthy: [],
        quarantined: [{ version: NEXT, reason: 'test', at: new Date().toISOString() }],
      }),
    );
    const before = listRequests().length;
    d = await start();
    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.guard.paused).toBe(true);
    expect(st.guard.pausedUntil).not.toBeNull();
    await waitFor('a check after the restart', () => listRequests().length > before, POLL_WAIT_MS);
    expect(listRequests()[before]!.headers['if-none-match']).toBeDefined();
    const report = (await d.call('POST', '/v1/update/check')).body;
    expect(report.candidate).toBeNull();
    expect(report.reason).toBe('quarantined');
  });
});
