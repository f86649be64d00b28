// Bundles a TypeScript script that a test runs as its own process (the install driver, the e2e
// and bench drivers) into one self-contained .mjs with esbuild, the way the real bundle is built.
import * as esbuild from 'esbuild';
import { ROOT } from './cli.js';

/**
 * CommonJS dependencies (execa's, tar's) call require() for Node built-ins; esbuild's ESM
 * output needs a `require` in scope for them, as scripts/build.mjs gives the real bundle.
 */
const REQUIRE_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/**
 * Bundles `entry` (a path relative to the repository) into `outfile`; `define` replaces
 * identifiers at bundle time (e.g. `__HEPH_VERSION__`). Returns `outfile`.
 */
export async function bundleScript(
  entry: string,
  outfile: string,
  define: Record<string, string> = {},
): Promise<string> {
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    logLevel: 'error',
    banner: { js: REQUIRE_BANNER },
    define,
  });
  return outfile;
}
