// kill -9 at every step of a bundle install (HEPH_FAULT_KILL_AT, see src/install/fault.ts), then
// a fresh start: `current` is always complete and runs, leftovers are cleaned and the next
// install succeeds. Also two installer processes racing for the lock.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAULT_STEPS } from '../../src/install/fault.js';
import { readStore } from '../../src/install/store.js';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';
import {
  type Artifacts,
  getArtifacts,
  publishRelease,
  type ReleaseServer,
  seedStore,
  serveFolder,
} from '../helpers/artifacts.js';
import { cleanEnv, ROOT } from '../helpers/cli.js';

let art: Artifacts;
let driver: string;
let driverDir: string;
let home: string;
let root: string;
let paths: Paths;
let server: ReleaseServer;

beforeAll(async () => {
  art = await getArtifacts();
  driverDir = mkdtempSync(join(tmpdir(), 'heph-driver-'));
  driver = join(driverDir, 'install-driver.mjs');
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['test/integration/install-driver.ts'],
    outfile: driver,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    logLevel: 'error',
    // Self-contained like the real bundle: CommonJS dependencies need require() for built-ins.
    banner: {
      js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);",
    },
    define: { __HEPH_VERSION__: JSON.stringify('0.0.0-driver') },
  });
});
afterAll(() => rmSync(driverDir, { recursive: true, force: true }));

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'heph-faults-'));
  root = join(home, 'releases');
  mkdirSync(root);
  paths = resolvePaths({ HEPH_HOME: home });
  server = await serveFolder(root);
  await seedStore(paths, art, '1.0.0');
  publishRelease(root, '1.1.0', art);
  publishRelease(root, '1.2.0', art);
});
afterEach(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

function runDriver(version: string, env: Record<string, string> = {}, wait?: number) {
  return execa(process.execPath, [driver, root, server.url, version, ...(wait ? [String(wait)] : [])], {
    env: cleanEnv({ HEPH_HOME: home, ...env }),
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

function currentPrints(): string {
  return execFileSync(process.execPath, [join(paths.store, 'current', 'dist', 'heph.mjs'), '--version'], {
    encoding: 'utf8',
  }).trim();
}

describe('kill -9 during an install', () => {
  it.each(FAULT_STEPS)(
    'killed at %s: current stays complete, the next run cleans up and installs',
    async (step) => {
      const killed = await runDriver('1.1.0', { HEPH_FAULT_KILL_AT: step });
      expect(killed.signal).toBe('SIGKILL');
      // whatever the step, current is one complete, working version
      const after = readStore(paths);
      expect(['1.0.0', '1.1.0']).toContain(after.current);
      expect(after.complete[after.current!]).toBe(true);
      expect(currentPrints()).toBe(after.current);

      const next = await runDriver('1.2.0');
      expect(next.exitCode, next.stdout + next.stderr).toBe(0);
      const s = readStore(paths);
      expect(s.current).toBe('1.2.0');
      expect(s.previous).toBe(after.current);
      expect(currentPrints()).toBe('1.2.0');
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
    expect(currentPrints()).toBe(s.current);
    expect(s.versions.every((v) => s.complete[v])).toBe(true);

    const [c, d] = await Promise.all([runDriver('1.1.0', {}, 60_000), runDriver('1.2.0', {}, 60_000)]);
    expect([c.exitCode, d.exitCode]).toEqual([0, 0]);
    expect(['1.1.0', '1.2.0']).toContain(readStore(paths).current);
  });
});
