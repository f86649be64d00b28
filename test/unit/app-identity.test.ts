// The names that follow from an app's name, heph's own identity built two ways staying equal, and
// how messages written in heph's names read for an embedding app.
import { describe, expect, it } from 'vitest';
import { appNames, envName, HEPH_APP, renameForApp } from '../../src/app/identity.js';
import { serviceNames } from '../../src/app/service-names.js';
import { hephApp } from '../../src/lib/heph.js';

describe('app identity', () => {
  it('heph built with defineApp is the engine default (src/app/identity.ts HEPH_APP)', () => {
    expect(hephApp.identity).toEqual(HEPH_APP);
  });

  it('derives the daemon, the variable prefix and the service names from the name', () => {
    const acme = appNames('acme-sync');
    expect(acme).toEqual({ name: 'acme-sync', daemon: 'acme-syncd', envPrefix: 'ACME_SYNC' });
    expect(envName(acme, 'HOME')).toBe('ACME_SYNC_HOME');
    expect(serviceNames(acme)).toMatchObject({
      unit: 'acme-syncd.service',
      socketUnit: 'acme-syncd.socket',
      launchdLabel: 'local.acme-sync.acme-syncd',
      envFile: 'acme-syncd.env',
    });
    expect(serviceNames({ ...acme, launchdPrefix: 'com.acme' }).launchdLabel).toBe('com.acme.acme-syncd');
  });

  it("renames command references, the daemon and variables in heph's messages, not paths", () => {
    const acme = appNames('acme');
    expect(renameForApp('run `heph update resume` to resume', acme)).toBe(
      'run `acme update resume` to resume',
    );
    expect(renameForApp('heph: no daemon is running', acme)).toBe('acme: no daemon is running');
    expect(renameForApp('hephd is not running; set HEPH_HOME', acme)).toBe(
      'acmed is not running; set ACME_HOME',
    );
    expect(renameForApp('try heph daemon install', acme)).toBe('try acme daemon install');
    expect(renameForApp('/home/hephaestus/heph-data/x', acme)).toBe('/home/hephaestus/heph-data/x');
    expect(renameForApp('run `heph update resume`', HEPH_APP)).toBe('run `heph update resume`');
  });

  it('renames heph as a word of a message, not inside a path, file or package name', () => {
    const acme = appNames('acme');
    expect(renameForApp('foo is in the way; heph did not make it', acme)).toBe(
      'foo is in the way; acme did not make it',
    );
    expect(renameForApp("the unit starts x, but this heph's launcher is y", acme)).toBe(
      "the unit starts x, but this acme's launcher is y",
    );
    expect(renameForApp('refresh install.trusted_root or upgrade heph.', acme)).toBe(
      'refresh install.trusted_root or upgrade acme.',
    );
    expect(renameForApp('this is not a heph bundle', acme)).toBe('this is not an acme bundle');
    expect(renameForApp('this is not a heph bundle', appNames('sync'))).toBe('this is not a sync bundle');
    for (const kept of [
      'dist/heph.mjs',
      'heph-1.2.3.tgz',
      'owner/heph',
      '@x/heph',
      '/srv/heph/x',
      'heph.sock',
    ]) {
      expect(renameForApp(`see ${kept} there`, acme)).toBe(`see ${kept} there`);
    }
    const data = 'x/package.json names the package "heph", not "acme"';
    expect(renameForApp(data, acme)).toBe(data);
    expect(renameForApp(JSON.stringify({ msg: data }), acme)).toBe(JSON.stringify({ msg: data }));
    expect(renameForApp(JSON.stringify({ hint: 'heph reads only files' }), acme)).toBe(
      JSON.stringify({ hint: 'acme reads only files' }),
    );
  });

  it('renames the daemon and the variable prefix as words only, not inside a name, path or value', () => {
    const acme = appNames('acme');
    expect(renameForApp('hephd started; see hephd.service and $HEPH_HOME', acme)).toBe(
      'acmed started; see acmed.service and $ACME_HOME',
    );
    expect(renameForApp('{"HEPH_FORGE_TOKEN":"[redacted]","unit":"hephd"}', acme)).toBe(
      '{"ACME_FORGE_TOKEN":"[redacted]","unit":"acmed"}',
    );
    for (const data of [
      'forge.repo = owner/hephd',
      'x-hephd-y',
      'abc-HEPH_XYZ',
      'C:\\Users\\heph\\AppData',
      'C:\\srv\\hephd\\run',
    ]) {
      expect(renameForApp(data, acme)).toBe(data);
    }
  });

  it('renames a text twice (the daemon, then the CLI that prints it) as once', () => {
    const text = 'hephd: set HEPH_FORGE_TOKEN, then run `heph update check` (heph retries)';
    for (const name of ['acme', 'heph-sync', 'hephx']) {
      const once = renameForApp(text, appNames(name));
      expect(renameForApp(once, appNames(name))).toBe(once);
    }
    expect(renameForApp(text, appNames('heph-sync'))).toBe(
      'heph-syncd: set HEPH_SYNC_FORGE_TOKEN, then run `heph-sync update check` (heph-sync retries)',
    );
  });
});
