// Hostile input as a user meets it through the built CLI and a real hephd: values past their
// bounds, an empty --version, a socket path past sun_path, a symlinked or endless config, corrupt
// state files. Each case failed on the code before its fix (docs/operations.md "Hostile input").
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { plainProbeRoot, startDaemon } from '../helpers/daemon.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

let s: Scratch | undefined;
let forge: TestForge | undefined;
afterEach(async () => {
  await forge?.close();
  forge = undefined;
  s?.cleanup();
  s = undefined;
});

async function withForge(): Promise<{ s: Scratch; forge: TestForge }> {
  s = scratch('heph-hostile-');
  forge = await startForge({ kind: 'github' });
  forge.publish({ tag: 'v0.1.1', assets: [{ name: 'heph-0.1.1.tgz', content: 'x' }] });
  s.writeConfig(
    `[update]\nmode = "off"\n\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n`,
  );
  return { s, forge };
}

describe('bounds through the CLI', () => {
  it('config set refuses a duration past 365d and an integer past its bound, naming both (exit 78)', async () => {
    s = scratch('heph-hostile-');
    const drain = await runHeph(['config', 'set', 'restart.drain_timeout', '999999999d'], s.env);
    expect(drain.exitCode).toBe(78);
    expect(drain.stderr).toContain('restart.drain_timeout: must be at most 365d, got "999999999d"');
    const keep = await runHeph(['config', 'set', 'install.keep', '99999999999999999999'], s.env);
    expect(keep.exitCode).toBe(78);
    expect(keep.stderr).toContain('install.keep: must be at most 100, got 100000000000000000000');
    const age = await runHeph(['config', 'validate'], {
      ...s.env,
      HEPH_UPDATE_MIN_RELEASE_AGE: '99999999999d',
    });
    expect(age.exitCode).toBe(78);
    expect(age.stderr).toContain(
      'HEPH_UPDATE_MIN_RELEASE_AGE (environment): update.min_release_age: must be at most 365d',
    );
  });

  it('update pause --for past 365d is a usage error (exit 2), not a pause that cannot be printed', async () => {
    s = scratch('heph-hostile-');
    const r = await runHeph(['update', 'pause', '--for', '99999999999d'], s.env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('must be at most 365d');
  });
});

describe('update apply --version', () => {
  it.each(['', '  ', 'latest', 'v', '1.2'])(
    '%j is a usage error (exit 2) and asks the forge nothing',
    async (value) => {
      const { s, forge } = await withForge();
      const r = await runHeph(['update', 'apply', '--version', value, '--yes'], s.env);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--version expects a version such as 1.2.3, got ${JSON.stringify(value)}`);
      expect(forge.requests).toEqual([]);
    },
  );
});

describe('a socket path too long for sun_path', () => {
  it('hephd exits 78 (not respawned) and says which variable to shorten', async () => {
    s = scratch('heph-hostile-');
    const home = join(s.home, 'x'.repeat(100));
    mkdirSync(home, { recursive: true });
    const d = await startDaemon({ home, noWait: true });
    const { code } = await d.exited;
    expect(code, d.output()).toBe(78);
    expect(d.output()).toContain('too long for a unix socket');
    expect(d.output()).toContain('XDG_RUNTIME_DIR=/run/user/$(id -u)');
  });
});

describe('corrupt state files', () => {
  it('update check answers despite a foreign launcher.json, state.json and http-cache.json; each is set aside once; doctor lists them', async () => {
    const { s } = await withForge();
    const state = join(s.home, 'state');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'launcher.json'), '{"quarantined":[null]}');
    writeFileSync(join(state, 'state.json'), '{"guard":{"restarts":"soon"}}');
    writeFileSync(join(state, 'http-cache.json'), '{"v":1,"entries":{"x":{"etag":1}}}');

    const r = await runHeph(['update', 'check', '--json'], s.env);
    expect(r.stderr).not.toContain('TypeError');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ latest: '0.1.1' });
    for (const name of ['launcher.json', 'state.json', 'http-cache.json']) {
      expect(r.stderr).toContain(`warning: ${join(state, name)} is unusable (`);
    }
    const aside = readdirSync(state).filter((n) => n.includes('.corrupt-'));
    expect(aside.map((n) => n.replace(/\.corrupt-.*/, '')).sort()).toEqual([
      'http-cache.json',
      'launcher.json',
      'state.json',
    ]);
    const audit = readFileSync(join(state, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'state.corrupt');
    expect(audit).toHaveLength(3);

    // reported once: the second check finds good files
    const again = await runHeph(['update', 'check', '--json'], s.env);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).not.toContain('unusable');

    const doctor = await runHeph(['doctor', '--json'], s.env);
    const row = JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'state-files');
    expect(row).toMatchObject({ status: 'warn' });
    expect(row.summary).toContain('launcher.json.corrupt-');
    expect(row.summary).toContain('a version that failed before may be tried again');
    expect(row.fix).toContain(`rm ${join(state, 'http-cache.json.corrupt-')}`);
  });
});

describe('guard times from a clock that was ahead', () => {
  it('a restart recorded a year ahead blocks one cooldown from now, and `heph update resume` clears it', async () => {
    const { s } = await withForge();
    const state = join(s.home, 'state');
    mkdirSync(state, { recursive: true });
    const ahead = Date.now() + 365 * 86_400_000;
    writeFileSync(join(state, 'state.json'), JSON.stringify({ guard: { restarts: [ahead] } }));
    const d = await startDaemon({ home: s.home, env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot() } });
    try {
      const before = (await d.call('GET', '/v1/status')).body.guard;
      // clamped to the daemon's start: the cooldown (15m by default) ends within the hour, not next year
      expect(Date.parse(before.cooldownUntil)).toBeLessThan(ahead - 300 * 86_400_000);
      const r = await runHeph(['update', 'resume', '--json'], s.env);
      expect(r.exitCode, r.stderr).toBe(0);
      const after = (await d.call('GET', '/v1/status')).body.guard;
      expect(after).toMatchObject({
        cooldownUntil: null,
        restartsInWindow: 0,
        circuit: 'closed',
        paused: false,
      });
    } finally {
      await d.stop();
    }
  });

  it('without a daemon, `heph update resume` clears it in state.json', async () => {
    const { s } = await withForge();
    const state = join(s.home, 'state');
    mkdirSync(state, { recursive: true });
    const ahead = Date.now() + 365 * 86_400_000;
    writeFileSync(join(state, 'state.json'), JSON.stringify({ guard: { restarts: [ahead] } }));
    const r = await runHeph(['update', 'resume'], s.env);
    expect(r.exitCode, r.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    expect(saved.guard).toMatchObject({ restarts: [], circuitOpenedAt: null, paused: false });
  });
});

describe('the config file itself', () => {
  it('config set on a symlinked config (dotfiles) writes through to the target; the link stays', async () => {
    s = scratch('heph-hostile-');
    const dotfiles = join(s.home, 'dotfiles');
    mkdirSync(dotfiles);
    writeFileSync(join(dotfiles, 'heph.toml'), '# mine\n[update]\nmode = "off"\n');
    symlinkSync('dotfiles/heph.toml', join(s.home, 'config.toml'));
    const r = await runHeph(['config', 'set', 'update.interval', '7h'], s.env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lstatSync(join(s.home, 'config.toml')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(s.home, 'config.toml'))).toBe('dotfiles/heph.toml');
    expect(readFileSync(join(dotfiles, 'heph.toml'), 'utf8')).toBe(
      '# mine\n[update]\nmode = "off"\ninterval = "7h"\n',
    );
    expect(readdirSync(dotfiles)).toEqual(['heph.toml']); // no temp file left beside the target
  });

  it('config set on a dangling symlink creates its target', async () => {
    s = scratch('heph-hostile-');
    mkdirSync(join(s.home, 'dotfiles'));
    symlinkSync(join(s.home, 'dotfiles', 'heph.toml'), join(s.home, 'config.toml'));
    expect((await runHeph(['config', 'set', 'update.interval', '7h'], s.env)).exitCode).toBe(0);
    expect(lstatSync(join(s.home, 'config.toml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(s.home, 'dotfiles', 'heph.toml'), 'utf8')).toBe('[update]\ninterval = "7h"\n');
  });

  it.each([
    [
      'a symlink to /dev/zero',
      (file: string) => symlinkSync('/dev/zero', file),
      'is a character device, not a regular file',
    ],
    ['a FIFO', (file: string) => execFileSync('mkfifo', [file]), 'is a FIFO, not a regular file'],
    [
      'a file over 1 MiB',
      (file: string) => writeFileSync(file, `# ${'x'.repeat(1024 * 1024)}\n`),
      'is larger than 1048576 bytes',
    ],
  ])('a config that is %s is refused at once (exit 78), by every reader', async (_, make, what) => {
    s = scratch('heph-hostile-');
    const file = join(s.home, 'config.toml');
    make(file);
    for (const args of [
      ['config', 'validate'],
      ['config', 'set', 'update.interval', '7h'],
      ['update', 'check'],
    ]) {
      const r = await runHeph(args, s.env);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(78);
      expect(r.stderr).toContain(`heph: ${file}: cannot read the config file: it ${what}`);
    }
    const doctor = await runHeph(['doctor', '--json'], s.env);
    const row = JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'config');
    expect(row.summary).toContain(what);
  });
});
