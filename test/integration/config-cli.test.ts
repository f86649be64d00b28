// `heph config …` and config errors through the built CLI, as a user sees them.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';

let s: Scratch;
afterEach(() => s?.cleanup());

describe('heph config', () => {
  it('path, set, get (bare), validate', async () => {
    s = scratch();
    const path = await runHeph(['config', 'path'], s.env);
    expect(path.stdout.trim()).toBe(`${s.home}/config.toml`);

    // Polling needs a repo: refused before it is set, with the key named and nothing written.
    const early = await runHeph(['config', 'set', 'update.mode', 'notify'], s.env);
    expect(early.exitCode).toBe(78);
    expect(early.stderr).toContain('forge.repo: required when update.mode = "notify"');
    expect(existsSync(`${s.home}/config.toml`)).toBe(false);
    expect((await runHeph(['config', 'set', 'forge.repo', 'acme/app'], s.env)).exitCode).toBe(0);
    const set = await runHeph(['config', 'set', 'update.mode', 'notify'], s.env);
    expect(set.exitCode).toBe(0);
    expect((await runHeph(['config', 'get', 'update.mode'], s.env)).stdout).toBe('notify');
    expect((await runHeph(['config', 'get', 'update.interval'], s.env)).stdout).toBe('6h');
    const json = await runHeph(['config', 'get', 'update.mode', '--json'], s.env);
    expect(JSON.parse(json.stdout)).toEqual({ key: 'update.mode', value: 'notify' });
    const all = JSON.parse((await runHeph(['config', 'get', '--json'], s.env)).stdout);
    expect(all['restart.max_per_window']).toBe(3);

    const valid = await runHeph(['config', 'validate', '--json'], s.env);
    expect(valid.exitCode).toBe(0);
    expect(JSON.parse(valid.stdout)).toMatchObject({ valid: true, exists: true });
  });

  it('refuses an invalid value with exit 78 and leaves the file byte-identical', async () => {
    s = scratch();
    const file = s.writeConfig('# hand-written\n[update]\nmode = "notify"  # opt-in\n');
    const before = readFileSync(file);
    for (const [key, value] of [
      ['update.mode', 'always'],
      ['update.interval', '30s'],
      ['update.modee', 'auto'],
      ['forge.url', 'http://forge.example.com'],
    ] as const) {
      const r = await runHeph(['config', 'set', key, value], s.env);
      expect(r.exitCode, `${key}=${value}`).toBe(78);
      expect(r.stderr).toContain(key);
      expect(readFileSync(file).equals(before)).toBe(true);
    }
    const typo = await runHeph(['config', 'set', 'update.modee', 'auto'], s.env);
    expect(typo.stderr).toContain('did you mean "update.mode"');
  });

  it('a daemon that does not answer the reload (busy installing, restarting) is pending, not a refusal', async () => {
    s = scratch();
    s.writeConfig('[update]\nmode = "off"\n');
    // A daemon's socket that takes the request and goes away without an answer, as one does
    // when the client's wait runs out during a long install or when it restarts mid-request.
    const socket = join(s.home, 'run', 'hephd.sock');
    mkdirSync(join(s.home, 'run'), { recursive: true, mode: 0o700 });
    const asked: string[] = [];
    const server = createServer((c: Socket) => {
      c.once('data', (chunk) => {
        asked.push(chunk.toString('utf8').split('\r\n')[0]!);
        c.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      const r = await runHeph(['config', 'set', 'update.jitter', '0.2', '--json'], s.env);
      expect(asked).toEqual(['POST /v1/config/reload HTTP/1.1']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        changed: true,
        daemon: { running: true, reloaded: false, pending: true },
      });
      expect(r.stderr).toContain('has not confirmed the reload yet');
      expect(r.stderr).toContain('config.loadedAt');
      expect(readFileSync(join(s.home, 'config.toml'), 'utf8')).toContain('jitter = 0.2');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('names the file and the key for a broken config, on every command that loads it', async () => {
    s = scratch();
    const file = s.writeConfig('[update]\nmode = "auto"\nintervall = "6h"\n');
    const r = await runHeph(['config', 'validate'], s.env);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('update.intervall');
    expect(r.stderr).toContain('did you mean "update.interval"');

    const j = await runHeph(['config', 'validate', '--json'], s.env);
    expect(j.exitCode).toBe(78);
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'E_CONFIG', exitCode: 78 });

    s.writeConfig('[forge]\nurl = "http://forge.example.com"\n');
    const http = await runHeph(['config', 'validate'], s.env);
    expect(http.exitCode).toBe(78);
    expect(http.stderr).toMatch(/forge\.url.*https:\/\//);

    s.writeConfig('[update]\nmode = "auto"\n');
    const env = await runHeph(['config', 'validate'], { ...s.env, HEPH_UPDATE_INTERVAL: '2m' });
    expect(env.exitCode).toBe(78);
    expect(env.stderr).toContain('HEPH_UPDATE_INTERVAL');
  });

  it('update.windows: set and read back; a bad window, zone or length exits 78 naming key and value', async () => {
    s = scratch();
    const file = s.writeConfig('[update]\nmode = "off"\n');
    const ok = await runHeph(
      ['config', 'set', 'update.windows', 'Mon-Fri 02:00-04:00 Europe/Berlin; Sat,Sun 22:00-01:00 UTC'],
      s.env,
    );
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect((await runHeph(['config', 'get', 'update.windows'], s.env)).stdout).toBe(
      'Mon-Fri 02:00-04:00 Europe/Berlin\nSat,Sun 22:00-01:00 UTC',
    );
    const before = readFileSync(file);
    for (const [value, says] of [
      ['Mon-Fri 2am-4am Europe/Berlin', '"2am-4am" is not a time span'],
      ['Mon-Fri 02:00-04:00 Europe/Berlinn', 'unknown time zone "Europe/Berlinn"'],
      ['* 03:00-03:00 UTC', 'has zero length'],
      ['Weekdays 02:00-04:00 UTC', '"Weekdays" is not a day'],
    ] as const) {
      const r = await runHeph(['config', 'set', 'update.windows', value], s.env);
      expect(r.exitCode, value).toBe(78);
      expect(r.stderr).toContain('update.windows.0');
      expect(r.stderr).toContain(says);
      expect(readFileSync(file).equals(before)).toBe(true);
    }
    s.writeConfig('[update]\nwindows = ["* 01:00-02:00 UTC", "Mon 02:00-04:00 Nowhere/City"]\n');
    const v = await runHeph(['config', 'validate'], s.env);
    expect(v.exitCode).toBe(78);
    expect(v.stderr).toContain('update.windows.1');
    expect(v.stderr).toContain('Nowhere/City');
  });

  it('metrics.textfile: an absolute *.prom path in a folder that exists, else exit 78 naming key and value', async () => {
    s = scratch();
    const file = s.writeConfig('[update]\nmode = "off"\n');
    const good = `${s.home}/heph.prom`;
    expect((await runHeph(['config', 'set', 'metrics.textfile', good], s.env)).exitCode).toBe(0);
    expect((await runHeph(['config', 'get', 'metrics.textfile'], s.env)).stdout).toBe(good);
    const before = readFileSync(file);
    mkdirSync(`${s.home}/dir.prom`);
    for (const [value, says] of [
      [`${s.home}/missing/heph.prom`, `the folder ${s.home}/missing does not exist`],
      [`${s.home}/dir.prom`, `a folder (or another non-file) has that name`],
      ['heph.prom', 'expected an absolute path'],
      [`${s.home}/heph.txt`, 'ending in .prom'],
    ] as const) {
      const r = await runHeph(['config', 'set', 'metrics.textfile', value], s.env);
      expect(r.exitCode, value).toBe(78);
      expect(r.stderr).toContain('metrics.textfile');
      expect(r.stderr).toContain(says);
      expect(r.stderr).toContain(value);
      expect(readFileSync(file).equals(before)).toBe(true);
    }
    // validate says the same of a hand edit
    s.writeConfig(`[metrics]\ntextfile = "${s.home}/dir.prom"\n`);
    const v = await runHeph(['config', 'validate'], s.env);
    expect(v.exitCode).toBe(78);
    expect(v.stderr).toContain('metrics.textfile');
    expect(v.stderr).toContain(`${s.home}/dir.prom`);
  });

  it("validate and set check the forge settings without touching the daemon's state (its ETag cache stays as it is)", async () => {
    s = scratch();
    s.writeConfig('[update]\nmode = "notify"\n[forge]\nrepo = "acme/app"\n');
    const state = join(s.home, 'state');
    mkdirSync(state, { recursive: true });
    // A cache the daemon would set aside as corrupt: a read-only command must leave it be.
    writeFileSync(join(state, 'http-cache.json'), 'not json');
    expect((await runHeph(['config', 'validate'], s.env)).exitCode).toBe(0);
    expect((await runHeph(['config', 'set', 'update.interval', '2h'], s.env)).exitCode).toBe(0);
    expect(readdirSync(state)).toEqual(['http-cache.json']);
    expect(readFileSync(join(state, 'http-cache.json'), 'utf8')).toBe('not json');
  });

  it('--system: a token file root cannot see as the service will is a warning, not a refusal', async () => {
    s = scratch();
    s.writeConfig('[update]\nmode = "notify"\n[forge]\nrepo = "acme/app"\ntoken_file = "~/token"\n');
    // The user's own config: the CLI reads the token file as the daemon will, so it refuses.
    const user = await runHeph(['config', 'validate'], s.env);
    expect(user.exitCode).toBe(78);
    expect(user.stderr).toContain('forge.token_file');
    // The system install's: the service reads it as its own user, with its own HOME.
    const system = await runHeph(['config', 'set', 'update.interval', '2h', '--system'], s.env);
    expect(system.exitCode, system.stderr).toBe(0);
    expect(system.stderr).toContain('warning: forge.token_file: cannot read');
    expect(system.stderr).toContain('`heph doctor --system`');
    expect(readFileSync(join(s.home, 'config.toml'), 'utf8')).toContain('interval = "2h"');
  });

  it('usage errors exit 2', async () => {
    s = scratch();
    expect((await runHeph(['config', 'set', 'update.mode'], s.env)).exitCode).toBe(2);
    expect((await runHeph(['frobnicate'], s.env)).exitCode).toBe(2);
    expect((await runHeph(['--version'], s.env)).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
