// An app built on the library (the built dist/index.mjs) speaks in its own names on the daemon
// side too, not only where its CLI prints: the log lines (the journal), what the control socket
// answers a raw client (curl --unix-socket) and the audit file say `acme update resume`, `acme
// config validate` and `acmed`, never heph's; and `acme daemon install --dry-run` redacts the
// app's own token variable. heph's own texts are checked unchanged by the tests that run hephd.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DIST } from '../helpers/cli.js';
import { plainProbeRoot, socketRequest } from '../helpers/daemon.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';
import { tempDir } from '../helpers/tmp.js';

const APP = `
import { defineApp } from ${JSON.stringify(join(DIST, 'index.mjs'))};
const app = defineApp({ name: 'acme', version: '1.2.3', entry: 'app.mjs' });
await app.main();
`;

/** heph's names as they appear in messages (paths such as a temp folder are not messages). */
const HEPH_IN_MESSAGES = [
  /`heph[ `]/,
  /\bheph (update|daemon|config|doctor|status|release)\b/,
  /\bhephd\b/,
  /\bHEPH_[A-Z]/,
];

function hephNamesIn(text: string): string[] {
  return text.split('\n').filter((line) => HEPH_IN_MESSAGES.some((re) => re.test(line)));
}

let children: ReturnType<typeof spawn>[] = [];
let forge: TestForge | null = null;
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  children = [];
  await forge?.close();
  forge = null;
});

function run(home: string, env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, [join(home, 'app.mjs'), ...args], { env, cwd: home });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exited, pid: child.pid as number, output: () => output };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("an embedding app's daemon speaks in the app's names", () => {
  it('in its log lines, its raw socket answers and its audit file', async () => {
    forge = await startForge({ kind: 'github', repo: 'acme/acme' });
    forge.publish({ tag: 'v1.3.0', assets: [{ name: 'acme-1.3.0.tgz', content: 'not installed here' }] });
    const home = tempDir('acme-names-');
    writeFileSync(join(home, 'app.mjs'), APP);
    const config = join(home, 'config.toml');
    writeFileSync(
      config,
      `[update]\nmode = "auto"\ninterval = "24h"\n\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n`,
    );
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      ACME_HOME: home,
      HEPH_DEV_PROBE_ROOT: plainProbeRoot(),
    };
    // Paused before the daemon starts (state.json): the check below finds 1.3.0 and is blocked.
    const pause = run(home, env, ['update', 'pause']);
    expect(await pause.exited, pause.output()).toBe(0);

    const d = run(home, env, ['daemon', 'run']);
    const socket = join(home, 'run', 'acmed.sock');
    await until("the app's socket", () => existsSync(socket));

    const checked = await socketRequest(socket, 'POST', '/v1/update/check');
    expect(checked.status, JSON.stringify(checked.body)).toBe(200);
    expect(JSON.stringify(checked.body)).toContain(
      'updates are paused (1.3.0 is available); run `acme update resume`',
    );
    const status = await socketRequest(socket, 'GET', '/v1/status');
    expect(status.body.guard.recommendedAction).toBe(
      'updates are paused; run `acme update resume` to resume',
    );
    const refused = await socketRequest(socket, 'POST', '/v1/update/apply', { installed: 5 });
    expect(refused.status).toBe(400);
    expect(refused.body.error.hint).toBe(
      '`acme update apply` sends this after installing; use it rather than calling the socket by hand',
    );

    writeFileSync(config, '[update\nmode = "auto"\n');
    const reload = await socketRequest(socket, 'POST', '/v1/config/reload');
    expect(reload.status).toBe(400);
    expect(reload.body.error.hint).toBe('fix the syntax, then run `acme config validate`');
    process.kill(d.pid, 'SIGHUP');
    await until('the refused reload in the log', () => d.output().split('config reload refused').length > 2);

    process.kill(d.pid, 'SIGTERM');
    expect(await d.exited, d.output()).toBe(0);
    const log = d.output();
    expect(log).toContain('updates are paused; run `acme update resume` to resume');
    expect(log).toContain('fix the syntax, then run `acme config validate`');
    expect(log).toContain('acmed started');
    expect(hephNamesIn(log)).toEqual([]);

    const audit = readFileSync(join(home, 'state', 'audit.jsonl'), 'utf8');
    const blocked = audit
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'update.blocked');
    expect(blocked).toMatchObject([
      {
        version: '1.3.0',
        reason: 'paused',
        message: 'updates are paused; run `acme update resume` to resume',
      },
    ]);
    expect(hephNamesIn(audit)).toEqual([]);
  });

  it('`acme daemon install --dry-run` prints the ACME_FORGE_TOKEN it would write redacted', async () => {
    const home = tempDir('acme-names-');
    writeFileSync(join(home, 'app.mjs'), APP);
    const token = 'ghp_acme_dryrun_secret_123';
    const env = { PATH: process.env.PATH ?? '', HOME: home, ACME_HOME: home, ACME_FORGE_TOKEN: token };
    const r = run(home, env, ['daemon', 'install', '--manager', 'systemd', '--dry-run']);
    expect(await r.exited, r.output()).toBe(0);
    expect(r.output()).toContain('ACME_FORGE_TOKEN="[redacted]"');
    expect(r.output()).not.toContain(token);
  });
});
