import { tempDir } from '../helpers/tmp.js';
import { appNames, HEPH_NAMES } from '../../src/app/identity.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDuration, humanDuration, parseDuration } from '../../src/config/duration.js';
import { editTomlText, setConfigValue } from '../../src/config/edit.js';
import { loadConfig, suggestKey } from '../../src/config/load.js';
import { HephError } from '../../src/errors.js';
import { resolvePaths } from '../../src/platform/paths.js';

function tempConfig(text?: string): string {
  const dir = tempDir('heph-config-');
  const file = join(dir, 'config.toml');
  if (text !== undefined) writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): HephError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HephError) return e;
    throw e;
  }
  throw new Error('expected a HephError');
}

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['6h', 21_600_000],
    ['30d', 2_592_000_000],
    ['0s', 0],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '6', 'h', '1.5h', '-1m', '6 hours', '1w'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it('formats the shortest exact unit', () => {
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(86_400_000 * 2)).toBe('2d');
    expect(humanDuration(4 * 60_000 + 10_000)).toBe('4m 10s');
  });
});

describe('loadConfig', () => {
  it('gives every default when the file is absent, mode off', () => {
    const { config, exists } = loadConfig(tempConfig(), {});
    expect(exists).toBe(false);
    expect(config.update.mode).toBe('off');
    expect(config.update.interval).toBe(6 * 3_600_000);
    expect(config.forge.url).toBe('https://api.github.com');
    expect(config.install.keep).toBe(3);
    expect(config.restart.cooldown).toBe(15 * 60_000);
  });

  it('reads durations, booleans and lists', () => {
    const file = tempConfig(
      '[update]\nmode = "auto"\ninterval = "15m"\nallow_major = true\npin = "^1"\n[forge]\nrepo = "me/app"\n[install]\nverify = "minisign"\npublic_keys = ["RWQ1", "RWQ2"]\n',
    );
    const { config } = loadConfig(file, {});
    expect(config.update.interval).toBe(900_000);
    expect(config.update.allow_major).toBe(true);
    expect(config.install.public_keys).toEqual(['RWQ1', 'RWQ2']);
  });

  it.each([
    ['[update]\nmode = 3\n', 'update.mode'],
    ['[update]\nmode = "sometimes"\n', 'update.mode'],
    ['[update]\nintervall = "6h"\n', 'update.intervall'],
    ['[update]\ninterval = "6 hours"\n', 'update.interval'],
    ['[update]\ninterval = "1m"\n', 'update.interval'],
    ['[update]\njitter = 2\n', 'update.jitter'],
    ['[update]\npin = "not a range"\n', 'update.pin'],
    ['[forge]\nurl = "http://forge.example.com"\n', 'forge.url'],
    ['[forge]\nkind = "github"\nurl = "file:///srv/releases"\n', 'forge.url'],
    ['[install]\nverify = "minisign"\n', 'install.public_keys'],
    ['[install]\nmethod = "command"\n', 'install.command'],
    ['[install]\nkeep = 1\n', 'install.keep'],
    ['[restart]\ncooldown = 15\n', 'restart.cooldown'],
    ['[surprise]\nx = 1\n', 'surprise'],
  ])('rejects %j naming %s and the file', (text, key) => {
    const file = tempConfig(text);
    const err = configError(() => loadConfig(file, {}));
    expect(err.code).toBe('E_CONFIG');
    expect(err.exitCode).toBe(78);
    expect(err.message).toContain(file);
    expect(err.message).toContain(key);
  });

  it('hints at the key a typo meant', () => {
    const err = configError(() => loadConfig(tempConfig('[update]\nintervall = "6h"\n'), {}));
    expect(err.hint).toContain('update.interval');
    expect(suggestKey('update.allow_majr')).toBe('update.allow_major');
    expect(suggestKey('forge.tokenfile')).toBe('forge.token_file');
  });

  it('names the line of a TOML syntax error', () => {
    const err = configError(() => loadConfig(tempConfig('[update]\nmode = "auto\n'), {}));
    expect(err.message).toMatch(/line 2/);
  });

  it('accepts loopback http and file:// for static', () => {
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:1', 'http://[::1]:9']) {
      expect(loadConfig(tempConfig(`[forge]\nkind = "gitea"\nurl = "${url}"\n`), {}).config.forge.url).toBe(
        url,
      );
    }
    const { config } = loadConfig(tempConfig('[forge]\nkind = "static"\nurl = "file:///srv/releases"\n'), {});
    expect(config.forge.url).toBe('file:///srv/releases');
  });

  it('lets HEPH_<SECTION>_<KEY> override the file and names the variable on error', () => {
    const file = tempConfig('[update]\nmode = "notify"\n[forge]\nrepo = "me/app"\n');
    expect(loadConfig(file, { HEPH_UPDATE_MODE: 'auto' }).config.update.mode).toBe('auto');
    expect(loadConfig(file, { HEPH_INSTALL_KEEP: '5' }).config.install.keep).toBe(5);
    const err = configError(() => loadConfig(file, { HEPH_UPDATE_MODE: 'always' }));
    expect(err.message).toContain('HEPH_UPDATE_MODE');
    // HEPH_FORGE_TOKEN is a credential, not a config key
    expect(loadConfig(file, { HEPH_FORGE_TOKEN: 'x' }).config.forge).not.toHaveProperty('token');
  });
});

describe('config set', () => {
  it('edits one line in place and keeps comments and other keys', () => {
    const text =
      '# my settings\n[update]\nmode = "off" # opt-in\ninterval = "6h"\n\n[forge]\nrepo = "me/app"\n';
    const file = tempConfig(text);
    setConfigValue(file, 'update.mode', 'auto');
    const after = readFileSync(file, 'utf8');
    expect(after).toBe(
      '# my settings\n[update]\nmode = "auto" # opt-in\ninterval = "6h"\n\n[forge]\nrepo = "me/app"\n',
    );
    setConfigValue(file, 'forge.tag_prefix', 'release-');
    expect(readFileSync(file, 'utf8')).toContain('repo = "me/app"\ntag_prefix = "release-"\n');
    setConfigValue(file, 'restart.cooldown', '1h');
    expect(loadConfig(file, {}).config.restart.cooldown).toBe(3_600_000);
  });

  it('creates the file when absent', () => {
    const file = tempConfig();
    setConfigValue(file, 'update.allow_major', 'true');
    expect(loadConfig(file, {}).config.update.allow_major).toBe(true);
  });

  it.each([
    ['update.mode', 'sometimes'],
    ['update.interval', '1m'],
    ['update.intervall', '6h'],
    ['install.keep', 'many'],
    ['forge.url', 'http://example.com'],
  ])('refuses %s = %s and leaves the file byte-identical', (key, value) => {
    const text = '[update]\nmode = "notify"   # keep this comment\n';
    const file = tempConfig(text);
    const err = configError(() => setConfigValue(file, key, value));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(key);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('falls back to a clean rewrite for inline tables without losing keys', () => {
    const file = tempConfig('update = { mode = "notify", interval = "1h" }\nforge = { repo = "me/app" }\n');
    setConfigValue(file, 'update.mode', 'auto');
    const { config } = loadConfig(file, {});
    expect(config.update.mode).toBe('auto');
    expect(config.update.interval).toBe(3_600_000);
  });

  it('adds a section to text with no trailing newline', () => {
    expect(editTomlText('[update]\nmode = "off"', 'forge', 'repo', 'a/b')).toBe(
      '[update]\nmode = "off"\n\n[forge]\nrepo = "a/b"\n',
    );
  });
});

describe('paths', () => {
  it('puts everything under HEPH_HOME', () => {
    const p = resolvePaths({ HEPH_HOME: '/h' });
    expect(p).toMatchObject({
      config: '/h/config.toml',
      store: '/h/data/versions',
      launcher: '/h/data/bin/hephd',
      stateFile: '/h/state/state.json',
      auditFile: '/h/state/audit.jsonl',
      socket: '/h/run/hephd.sock',
    });
  });
  it('follows XDG and HEPH_CONFIG', () => {
    const p = resolvePaths({
      XDG_CONFIG_HOME: '/c',
      XDG_DATA_HOME: '/d',
      XDG_STATE_HOME: '/s',
      XDG_RUNTIME_DIR: '/r',
      HEPH_CONFIG: '/etc/heph.toml',
    });
    expect(p.config).toBe('/etc/heph.toml');
    expect(p.store).toBe('/d/heph/versions');
    expect(p.stateFile).toBe('/s/heph/state.json');
    expect(p.socket).toBe('/r/heph/hephd.sock');
    expect(resolvePaths({}, HEPH_NAMES, '/home/u').socket).toBe('/home/u/.local/state/heph/run/hephd.sock');
  });

  it('derives every name from an app name (ACME_HOME, acme/, acmed.sock)', () => {
    const acme = appNames('acme');
    const p = resolvePaths(
      { XDG_CONFIG_HOME: '/c', XDG_DATA_HOME: '/d', XDG_STATE_HOME: '/s', XDG_RUNTIME_DIR: '/r' },
      acme,
    );
    expect(p.config).toBe('/c/acme/config.toml');
    expect(p.launcher).toBe('/d/acme/bin/acmed');
    expect(p.auditFile).toBe('/s/acme/audit.jsonl');
    expect(p.socket).toBe('/r/acme/acmed.sock');
    expect(resolvePaths({ ACME_HOME: '/opt/acme', HEPH_HOME: '/opt/heph' }, acme).socket).toBe(
      '/opt/acme/run/acmed.sock',
    );
    expect(resolvePaths({ ACME_CONFIG: '/etc/acme.toml' }, acme, '/h').config).toBe('/etc/acme.toml');
  });
});
