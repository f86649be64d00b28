// kill -9 at every step of a bundle install (the driver kills itself through the onStep hook), then
// a fresh start: `current` is always complete and runs, leftovers are cleaned and the next
// install succeeds. Also two installer processes racing for the lock.
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INSTALL_STEPS } from '../../src/install/steps.js';
import { readStore } from '../../src/install/store.js';
import { type Artifacts, getArtifacts } from '../helpers/artifacts.js';
import {
  bundleInstallDriver,
  currentPrints,
  type InstallHome,
  installHome,
  runInstall,
} from '../helpers/installer.js';

let art: Artifacts;
let driver: string;
let driverDir: string;
let h: InstallHome;
let paths: InstallHome['paths'];

beforeAll(async () => {
  art = await getArtifacts();
  ({ driver, dir: driverDir } = await bundleInstallDriver('heph-driver-'));
});
afterAll(() => rmSync(driverDir, { recursive: true, force: true }));

beforeEach(async () => {
  h = await installHome('heph-faults-', art, '1.0.0', ['1.1.0', '1.2.0']);
  paths = h.paths;
});
afterEach(() => h.close());

function runDriver(version: string, env: Record<string, string> = {}, wait?: number) {
  return runInstall(driver, h, version, { env, ...(wait ? { lockWaitMs: wait } : {}) });
}

describe('kill -9 during an install', () => {
  it.each(INSTALL_STEPS)(
    'killed at %s: current stays complete, the next run cleans up and installs',
    async (step) => {
      const killed = await runDriver('1.1.0', { HEPH_FAULT_KILL_AT: step });
      expect(killed.signal).toBe('SIGKILL');
      // whatever the step, current is one complete, working version
      const after = readStore(paths);
      expect(['1.0.0', '1.1.0']).toContain(after.current);
      expect(after.complete[after.current!]).toBe(true);
      expect(currentPrints(paths)).toBe(after.current);

      const next = await runDriver('1.2.0');
      expect(next.exitCode, next.stdout + next.stderr).toBe(0);
      const s = readStore(paths);
      expect(s.current).toBe('1.2.0');
      expect(s.previous).toBe(after.current);
      expect(currentPrints(paths)).toBe('1.2.0');
      expect(readdirSync(paths.store).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      expect(s.versions.every((v) => s.complete[v])).toBe(true);
    },
  );
});

describe('two installers at once', () => {
  it('the second fails naming the holder (or waits when asked), the store stays consistent', async () => {
    const [a, b] = await Promise.all([runDriver('1.1.0'), runDriver('1.2.0')]);
    const results = [a, b].map(
      (r) => JSON.parse(r.stdout) as { version?: string; error?: string; message?: string },
    );
    const failed = results.filter((r) => r.error);
    // Usually one wins and the other is refused; on a slow machine they may also run one after
    // the other. Either way nothing but E_LOCKED may fail, and the message names the holder.
    for (const f of failed) {
      expect(f.error).toBe('E_LOCKED');
      expect(f.message).toMatch(/pid \d+ \(.*\) since \d{4}-/);
    }
    expect(failed.length).toBeLessThan(2);
    const s = readStore(paths);
    expect(currentPrints(paths)).toBe(s.current);
    expect(s.versions.every((v) => s.complete[v])).toBe(true);

    const [c, d] = await Promise.all([runDriver('1.1.0', {}, 60_000), runDriver('1.2.0', {}, 60_000)]);
    expect([c.exitCode, d.exitCode]).toEqual([0, 0]);
    expect(['1.1.0', '1.2.0']).toContain(readStore(paths).current);
  });
});
