// An app built on the library (the built dist/index.mjs, as an app bundles it) runs its serve(ctx)
// inside the daemon: the [app] table reaches ctx.config, ctx.signal aborts when the drain starts,
// the drain waits for ctx.track'ed work (up to restart.drain_timeout), a serve that throws at start
// ends the daemon with 1, and the app's own names (ACME_HOME, acmed.sock) are the ones used.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { DIST } from '../helpers/cli.js';
import { socketRequest } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const APP = `
import { defineApp } from ${JSON.stringify(join(DIST, 'index.mjs'))};
import { writeFileSync } from 'node:fs';
const app = defineApp({
  name: 'acme',
  version: '1.2.3',
  entry: 'app.mjs',
  async serve(ctx) {
    const c = ctx.config;
    if (c.fail_at_start) throw new Error('cannot open the database');
    ctx.signal.addEventListener('abort', () => writeFileSync(c.aborted, 'aborted'));
    ctx.track(
      new Promise((resolve) =>
        setTimeout(() => {
          writeFileSync(c.done, String(ctx.signal.aborted));
          resolve();
        }, c.work_ms),
      ),
    );
    writeFileSync(c.ready, JSON.stringify({ name: ctx.name, version: ctx.version, config: c }));
  },
});
await app.main();
`;

interface Run {
  code: number | null;
  output: string;
}

let children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  children = [];
});

function setUp(app: Record<string, string | number | boolean>, drain = '30s') {
  const home = tempDir('heph-embed-');
  const files = { ready: join(home, 'ready'), done: join(home, 'done'), aborted: join(home, 'aborted') };
  writeFileSync(join(home, 'app.mjs'), APP);
  const table = Object.entries({ ...files, ...app })
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(join(home, 'config.toml'), `[restart]\ndrain_timeout = "${drain}"\n[app]\n${table}\n`);
  // ACME_HOME, not HEPH_HOME: a stray HEPH_HOME must not move the app's files.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    ACME_HOME: home,
    HEPH_HOME: join(home, 'not-here'),
  };
  return { home, files, env };
}

function start(home: string, env: Record<string, string>): { exited: Promise<Run>; pid: number } {
  const child = spawn(process.execPath, [join(home, 'app.mjs'), 'daemon', 'run'], { env, cwd: home });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, output })));
  return { exited, pid: child.pid as number };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('serve(ctx) inside the daemon', () => {
  it('gets the [app] table, and the drain waits for tracked work after aborting the signal', async () => {
    const { home, files, env } = setUp({ work_ms: 1500, flavour: 'plain' });
    const d = start(home, env);
    await until('serve to start', () => existsSync(files.ready));
    const ready = JSON.parse(readFileSync(files.ready, 'utf8'));
    expect(ready).toMatchObject({
      name: 'acme',
      version: '1.2.3',
      config: { flavour: 'plain', work_ms: 1500 },
    });
    await until("the app's socket", () => existsSync(join(home, 'run', 'acmed.sock')));
    expect(existsSync(join(home, 'not-here'))).toBe(false);

    process.kill(d.pid, 'SIGTERM');
    const r = await d.exited;
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(files.aborted, 'utf8')).toBe('aborted');
    // The work finished before the exit, and saw the signal aborted: the drain waited for it.
    expect(readFileSync(files.done, 'utf8')).toBe('true');
  });

  it('a reload that changes [app] says so and that it takes effect at the next start (serve read it once)', async () => {
    const { home, files, env } = setUp({ work_ms: 0, flavour: 'plain' });
    const d = start(home, env);
    await until('serve to start', () => existsSync(files.ready));
    await until("the app's socket", () => existsSync(join(home, 'run', 'acmed.sock')));
    const file = join(home, 'config.toml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('flavour = "plain"', 'flavour = "spicy"'));
    const r = await socketRequest(join(home, 'run', 'acmed.sock'), 'POST', '/v1/config/reload');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ reloaded: true, changed: ['app'], restartNeeded: ['app'] });
    const audit = readAudit(join(home, 'state', 'audit.jsonl')).filter((e) => e.event === 'config.reloaded');
    expect(audit).toMatchObject([{ changed: ['app'], restartNeeded: ['app'] }]);
    const st = await socketRequest(join(home, 'run', 'acmed.sock'), 'GET', '/v1/status');
    expect(st.body.config.restartNeeded).toEqual(['app']);
    // The app's own `daemon reload` (no unit here: over the socket) says what to do, in its names.
    writeFileSync(file, readFileSync(file, 'utf8').replace('flavour = "spicy"', 'flavour = "mild"'));
    const cli = spawnSync(process.execPath, [join(home, 'app.mjs'), 'daemon', 'reload'], {
      env,
      cwd: home,
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('acmed reloaded the config; changed: app');
    expect(cli.stdout).toContain('run `acme daemon restart`');
    process.kill(d.pid, 'SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('waits no longer than restart.drain_timeout for tracked work', async () => {
    const { home, files, env } = setUp({ work_ms: 60_000 }, '1s');
    const d = start(home, env);
    await until('serve to start', () => existsSync(files.ready));
    process.kill(d.pid, 'SIGTERM');
    const r = await d.exited;
    expect(r.code, r.output).toBe(0);
    expect(existsSync(files.done)).toBe(false);
    expect(r.output).toContain('drain timeout: work still in flight');
  });

  it('a serve that throws at start ends the daemon with 1 (a failed start for the launcher)', async () => {
    const { home, env } = setUp({ fail_at_start: true, work_ms: 0 });
    const r = await start(home, env).exited;
    expect(r.code).toBe(1);
    expect(r.output).toContain('cannot open the database');
  });
});
