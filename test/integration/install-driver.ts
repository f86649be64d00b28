// A separate process that runs installRelease once, for the tests that need a real process to
// SIGKILL or two installers racing. Bundled with esbuild by the test. This entry point reads
// HEPH_FAULT_KILL_AT=<step> and kills itself there through the installer's onStep hook, and
// HEPH_DRIVER_FREE_BYTES, the free space its disk preflight is told; HEPH_DRIVER_FORGE_CLIENT
// makes it download with heph's own forge client instead of the tests' minimal one.
// argv: <releases root> <server url> <version> [lockWaitMs]; HEPH_HOME etc. from the environment.
import { configSchema } from '../../src/config/schema.js';
import { HephError } from '../../src/errors.js';
import { createForgeClient } from '../../src/forge/index.js';
import { installRelease } from '../../src/install/index.js';
import type { InstallStep } from '../../src/install/steps.js';
import { createDeps } from '../../src/platform/deps.js';
import { assetClient, releaseFromFolder } from '../helpers/artifacts.js';

const [root, url, version, wait] = process.argv.slice(2) as [string, string, string, string | undefined];
const deps = createDeps();
const killAt = process.env.HEPH_FAULT_KILL_AT as InstallStep | undefined;
const config = configSchema.parse({ forge: { kind: 'static', url }, install: { keep: 3 } });
try {
  const r = await installRelease({
    config,
    deps,
    // HEPH_DRIVER_FORGE_CLIENT: download through heph's own forge client (its write path)
    client: process.env.HEPH_DRIVER_FORGE_CLIENT ? createForgeClient(config, deps) : assetClient(),
    release: releaseFromFolder(root, version, url),
    lockWaitMs: wait ? Number(wait) : 0,
    hooks: {
      onStep: (step) => {
        if (step === killAt) process.kill(process.pid, 'SIGKILL');
      },
      // HEPH_DRIVER_FREE_BYTES: what the disk preflight is told (a disk that fills after it)
      ...(process.env.HEPH_DRIVER_FREE_BYTES
        ? { freeBytes: () => Number(process.env.HEPH_DRIVER_FREE_BYTES) }
        : {}),
    },
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
} catch (e) {
  process.stdout.write(
    `${JSON.stringify({
      error: e instanceof HephError ? e.code : String(e),
      message: String((e as Error).message),
      hint: e instanceof HephError ? e.hint : undefined,
    })}\n`,
  );
  process.exitCode = 1;
}
