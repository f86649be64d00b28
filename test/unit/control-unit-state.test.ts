// unitStarting asks a real `systemctl` binary; here a stand-in script on PATH plays systemd.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unitStarting } from '../../src/control/unit-state.js';

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
    expect(await unitStarting({ PATH: bin }, 'linux')).toBe(want);
  });

  it('no systemctl at all is no sign', async () => {
    expect(await unitStarting({ PATH: bin }, 'linux')).toBe(false);
  });

  it('is never asked off Linux', async () => {
    fakeSystemctl('activating', 'activating');
    expect(await unitStarting({ PATH: bin }, 'darwin')).toBe(false);
  });
});
