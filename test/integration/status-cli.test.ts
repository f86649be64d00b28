// `heph status` and `heph update pause|resume` as users run them: not running (exit 3, JSON
// still printed), riding out a restart, and pause/resume with and without a daemon.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { cleanEnv, HEPH, runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { plainProbeRoot, type RunningDaemon, startDaemon } from '../helpers/daemon.js';

let s: Scratch;
const running: RunningDaemon[] = [];

beforeEach(() => {
  s = scratch('heph-status-');
  s.writeConfig('[update]\nmode = "off"\n');
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('SIGKILL').catch(() => {});
  s.cleanup();
});

async function start(): Promise<RunningDaemon> {
  const d = await startDaemon({ home: s.home, env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot() } });
  running.push(d);
  return d;
}

/** The conventional uid/gid of nobody. */
const NOBODY = 65534;

const marker = () => join(s.home, 'run', 'hephd.stopped');

describe('heph status', () => {
  it('not running: exit 3, says so, and --json still prints a document', async () => {
    const human = await runHeph(['status'], s.env);
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toContain('hephd is not running');
    // no unit installed: the next step is install, not start (after `daemon uninstall` too)
    expect(human.stderr).toContain('heph daemon install');
    expect(human.stderr).not.toContain('heph daemon start');
    const json = await runHeph(['status', '--json'], s.env);
    expect(json.exitCode).toBe(3);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ running: false, version: null, pid: null, supervisor: null, mode: null });
  });

  it('running: the human summary and the JSON document', async () => {
    const d = await start();
    const human = await runHeph(['status'], s.env);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toContain(`pid ${d.pid}`);
    expect(human.stdout).toContain('supervisor none');
    const doc = JSON.parse((await runHeph(['status', '--json'], s.env)).stdout);
    expect(doc).toMatchObject({ running: true, pid: d.pid, mode: 'off', guard: { circuit: 'closed' } });
  });

  it('rides out a restart: a client started while the daemon is down succeeds when it comes up', async () => {
    const first = await start();
    expect((await first.stop()).code).toBe(0);
    running.splice(0);
    const pending = runHeph(['status', '--json'], s.env);
    await new Promise((r) => setTimeout(r, 1_000));
    const second = await start();
    const r = await pending;
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).pid).toBe(second.pid);
  });

  it('systemd reporting the unit as activating is a sign of a restart too', async () => {
    const bin = join(s.home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\necho activating\nexit 3\n', { mode: 0o755 });
    // systemd is only asked about a hephd it has a unit for (where `heph daemon install` puts it)
    const unitDir = join(s.home, '.config', 'systemd', 'user');
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(unitDir, 'hephd.service'), '[Service]\nExecStart=/bin/true\n');
    const pending = runHeph(['status', '--json'], { ...s.env, PATH: `${bin}:${process.env.PATH}` });
    await new Promise((r) => setTimeout(r, 1_000));
    const d = await start();
    const r = await pending;
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).pid).toBe(d.pid);
  });

  it('a user who may not use the socket is told so, not "not running"', async () => {
    const d = await start();
    let r: Awaited<ReturnType<typeof runHeph>>;
    if (process.getuid?.() === 0) {
      // root passes permission checks: ask as nobody, for whom the 0700 folders are closed.
      r = await execa(process.execPath, [HEPH, 'status'], {
        env: cleanEnv(s.env),
        extendEnv: false,
        reject: false,
        uid: NOBODY,
        gid: NOBODY,
      });
    } else {
      chmodSync(d.socket, 0o000);
      r = await runHeph(['status'], s.env);
    }
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('no permission to use the control socket');
  });

  it('an old stop marker is no sign of a restart: "not running" at once', async () => {
    mkdirSync(join(s.home, 'run'), { recursive: true });
    writeFileSync(marker(), JSON.stringify({ time: new Date(Date.now() - 60_000).toISOString(), pid: 1 }));
    const r = await runHeph(['status'], s.env, { timeout: 5_000 });
    expect(r.exitCode).toBe(3);
  });
});

describe('heph update pause / resume', () => {
  const stateFile = () => join(s.home, 'state', 'state.json');
  const events = () => readAudit(join(s.home, 'state', 'audit.jsonl')).map((e) => e.event);

  it('without a daemon they edit state.json (and say so); the daemon starts paused', async () => {
    const p = await runHeph(['update', 'pause', '--for', '2h'], s.env);
    expect(p.exitCode).toBe(0);
    expect(p.stderr).toContain('no daemon is running');
    const guard = JSON.parse(readFileSync(stateFile(), 'utf8')).guard;
    expect(guard.paused).toBe(true);
    expect(guard.pausedUntil).toBeGreaterThan(Date.now());
    const d = await start();
    expect((await d.call('GET', '/v1/status')).body.guard.paused).toBe(true);
    const r = JSON.parse((await runHeph(['update', 'resume', '--json'], s.env)).stdout);
    expect(r).toMatchObject({ paused: false, daemon: 'running' });
    expect((await d.call('GET', '/v1/status')).body.guard.paused).toBe(false);
    expect(events()).toEqual(['update.resumed', 'update.paused']);
  });

  it('with a daemon they go through the socket', async () => {
    const d = await start();
    const r = JSON.parse((await runHeph(['update', 'pause', '--json'], s.env)).stdout);
    expect(r).toMatchObject({ paused: true, pausedUntil: null, daemon: 'running' });
    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.guard).toMatchObject({ paused: true, pausedUntil: null });
    expect(st.guard.recommendedAction).toContain('heph update resume');
    expect((await runHeph(['update', 'pause', '--for', 'later'], s.env)).exitCode).toBe(2);
  });
});
