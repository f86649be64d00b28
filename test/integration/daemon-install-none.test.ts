// `heph daemon install --manager none`, run as the built CLI from a package tree: the store and
// the launcher only, no unit and no command, and the printed supervisor command really starts a
// daemon running the store's current version.
import { existsSync, lstatSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStore } from '../../src/install/store.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { VERSION } from '../../src/version.js';
import { type PackageTree, packageTree } from '../e2e/package-tree.js';
import { cleanEnv, type Scratch, scratch } from '../helpers/cli.js';
import { plainProbeRoot, startDaemon } from '../helpers/daemon.js';

let pkg: PackageTree;
let s: Scratch;

beforeEach(() => {
  pkg = packageTree(VERSION); // the version the suite's bundle was built with
  s = scratch('heph-dinstall-none-');
});
afterEach(() => {
  rmSync(pkg.root, { recursive: true, force: true });
  s.cleanup();
});

function heph(args: string[]) {
  return execa(process.execPath, [pkg.heph, ...args], {
    env: cleanEnv({ ...s.env, PATH: process.env.PATH }),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
  });
}

describe('heph daemon install --manager none', () => {
  it('--dry-run changes nothing and names the command', async () => {
    const r = await heph(['daemon', 'install', '--manager', 'none', '--dry-run', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const launcher = join(s.home, 'data', 'bin', 'hephd');
    expect(doc).toMatchObject({ manager: 'none', dryRun: true, command: [process.execPath, launcher] });
    expect(existsSync(launcher)).toBe(false);
    expect(existsSync(join(s.home, 'data', 'versions'))).toBe(false);
  });

  it('installs into the store, writes the launcher, and the printed command runs the daemon', async () => {
    const r = await heph(['daemon', 'install', '--manager', 'none']);
    expect(r.exitCode, r.stderr).toBe(0);
    const launcher = join(s.home, 'data', 'bin', 'hephd');
    expect(r.stdout).toContain(`store     heph ${VERSION} installed`);
    expect(r.stdout).toContain(`launcher  ${launcher} (written)`);
    expect(r.stdout).toContain(`  ${process.execPath} ${launcher}`);
    expect(r.stderr).toContain('waits for you (or your supervisor) to restart it');
    expect(statSync(launcher).mode & 0o777).toBe(0o755);
    expect(readStore(resolvePaths({ HEPH_HOME: s.home })).current).toBe(VERSION);
    expect(existsSync(join(s.home, '.config', 'systemd'))).toBe(false); // no unit anywhere

    const again = await heph(['daemon', 'install', '--manager', 'none', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({
      changed: false,
      store: { version: VERSION, changed: false },
    });

    // What the operator's supervisor does: run the launcher. It starts the store's current version.
    const d = await startDaemon({
      home: s.home,
      entry: launcher,
      env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot() },
    });
    try {
      const st = await d.call('GET', '/v1/status');
      expect(st.body).toMatchObject({ running: true, version: VERSION, supervisor: 'none' });
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  });

  it('repairs a store whose current and previous name folders that are gone: no link left dangling', async () => {
    expect((await heph(['daemon', 'install', '--manager', 'none'])).exitCode).toBe(0);
    const store = join(s.home, 'data', 'versions');
    for (const [name, target] of [
      ['current', '9.9.9'],
      ['previous', '9.9.8'],
    ] as const) {
      rmSync(join(store, name), { force: true });
      symlinkSync(target, join(store, name));
    }
    const r = await heph(['daemon', 'install', '--manager', 'none', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ store: { version: VERSION, changed: true } });
    expect(readlinkSync(join(store, 'current'))).toBe(VERSION);
    // before the fix: previous named the dangling old current (9.9.9)
    expect(existsSync(join(store, 'previous'))).toBe(false);
    expect(lstatSync(join(store, 'previous'), { throwIfNoEntry: false })).toBeUndefined();
  });

  it('refuses --system, which would mean nothing without a unit', async () => {
    const r = await heph(['daemon', 'install', '--manager', 'none', '--system']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--manager none writes no unit');
  });
});
