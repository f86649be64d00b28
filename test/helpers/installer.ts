// The install driver (test/integration/install-driver.ts) as a real process, for the tests that
// SIGKILL an install or race two installers: a store seeded with a real release and a folder of
// newer ones served on loopback, the driver bundled once, run, and the store's `current` asked.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';
import { type Artifacts, publishRelease, type ReleaseServer, seedStore, serveFolder } from './artifacts.js';
import { bundleScript } from './bundle.js';
import { cleanEnv } from './cli.js';

/** An install that neither finishes nor gets killed by then is hung, a failure of its own. */
export const INSTALL_TIMEOUT_MS = 60_000;
/** The version the driver's own bundle reports; it never installs itself. */
const DRIVER_VERSION = '0.0.0-driver';

/** Bundles the install driver into a new temp folder; `dir` is for removal afterwards. */
export async function bundleInstallDriver(prefix: string): Promise<{ driver: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const driver = await bundleScript('test/integration/install-driver.ts', join(dir, 'install-driver.mjs'), {
    __HEPH_VERSION__: JSON.stringify(DRIVER_VERSION),
  });
  return { driver, dir };
}

export interface InstallHome {
  /** HEPH_HOME of the installs. */
  home: string;
  /** The release folders (`v<version>/`), served by `server`. */
  root: string;
  paths: Paths;
  server: ReleaseServer;
  close(): Promise<void>;
}

/** A HEPH_HOME whose store holds `from` as current, and `targets` published on loopback. */
export async function installHome(
  prefix: string,
  art: Artifacts,
  from: string,
  targets: string[],
): Promise<InstallHome> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const root = join(home, 'releases');
  mkdirSync(root);
  const paths = resolvePaths({ HEPH_HOME: home });
  const server = await serveFolder(root);
  await seedStore(paths, art, from);
  for (const v of targets) publishRelease(root, v, art);
  return {
    home,
    root,
    paths,
    server,
    async close() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * One install of `version` by the driver in its own process (never rejects): `env` adds to a
 * clean environment, `lockWaitMs` lets it wait for the install lock instead of failing.
 */
export function runInstall(
  driver: string,
  h: InstallHome,
  version: string,
  opts: { env?: Record<string, string>; lockWaitMs?: number } = {},
) {
  const args = [driver, h.root, h.server.url, version, ...(opts.lockWaitMs ? [String(opts.lockWaitMs)] : [])];
  return execa(process.execPath, args, {
    env: cleanEnv({ HEPH_HOME: h.home, ...opts.env }),
    extendEnv: false,
    reject: false,
    timeout: INSTALL_TIMEOUT_MS,
  });
}

/** What `current/dist/heph.mjs --version` prints: the proof that current really runs. */
export function currentPrints(paths: Paths): string {
  return execFileSync(process.execPath, [join(paths.store, 'current', 'dist', 'heph.mjs'), '--version'], {
    encoding: 'utf8',
  }).trim();
}
