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
});
