// unitStarting asks a real `systemctl` binary; here a stand-in script on PATH plays systemd.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEPH_NAMES } from '../../src/app/identity.js';
import { unitStarting } from '../../src/control/unit-state.js';
import { serviceNames, systemUnitFile, userUnitFile as unitFileOf } from '../../src/app/service-names.js';

const NAMES = serviceNames(HEPH_NAMES);
const SYSTEM_UNIT_FILE = systemUnitFile(NAMES);
const userUnitFile = (env: Record<string, string>) => unitFileOf(NAMES, env);

let bin: string;
beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'heph-systemctl-'));
});
afterEach(() => rmSync(bin, { recursive: true, force: true }));

/** A systemctl that answers `word` for the user manager (or the system one) and exits like systemd. */
function fakeSystemctl(user: string, system: string): void {
  const file = join(bin, 'systemctl');
  writeFileSync(
    file,
    `#!/bin/sh\nif [ "$1" = "--user" ]; then w="${user}"; else w="${system}"; fi\necho "$w"\n[ "$w" = active ] && exit 0 || exit 3\n`,
  );
  chmodSync(file, 0o755);
}

describe('unitStarting', () => {
  it.each([
    ['activating', 'inactive', true],
    ['inactive', 'activating', true],
    ['reloading', 'inactive', true],
    ['active', 'inactive', false],
    ['failed', 'inactive', false],
  ])('user %s, system %s → %s', async (user, system, want) => {
    fakeSystemctl(user, system);
    expect(await unitStarting(NAMES, { PATH: bin }, 'linux', () => true)).toBe(want);
  });

  it('no systemctl at all is no sign', async () => {
    expect(await unitStarting(NAMES, { PATH: bin }, 'linux', () => true)).toBe(false);
  });

  it('is never asked off Linux', async () => {
    fakeSystemctl('activating', 'activating');
    expect(await unitStarting(NAMES, { PATH: bin }, 'darwin', () => true)).toBe(false);
  });

  it('asks only the managers that have a hephd unit (where daemon install writes it)', async () => {
    fakeSystemctl('activating', 'activating');
    const env = { PATH: bin, HOME: '/home/ada' };
    const asked: string[] = [];
    const has = (present: string[]) => (f: string) => {
      asked.push(f);
      return present.includes(f);
    };
    expect(await unitStarting(NAMES, env, 'linux', has([]))).toBe(false);
    expect(asked).toEqual([userUnitFile(env), SYSTEM_UNIT_FILE]);
    expect(userUnitFile(env)).toBe('/home/ada/.config/systemd/user/hephd.service');
    expect(userUnitFile({ ...env, XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/systemd/user/hephd.service');
    expect(await unitStarting(NAMES, env, 'linux', has([userUnitFile(env)]))).toBe(true);
    fakeSystemctl('inactive', 'activating');
    expect(await unitStarting(NAMES, env, 'linux', has([userUnitFile(env)]))).toBe(false); // the system one is not asked
    expect(await unitStarting(NAMES, env, 'linux', has([SYSTEM_UNIT_FILE]))).toBe(true);
  });
});
