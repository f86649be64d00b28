#!/usr/bin/env node
// Bundles slowpoke, heph included, into one self-contained file: dist/slowpoke.mjs. A release
// is unpacked and run as is (no `npm install` on the machine it updates), so everything the
// entry imports must be inside it.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Some of heph's CommonJS dependencies call require() for Node built-ins; an ESM bundle needs a
 * `require` in scope for them.
 */
const REQUIRE_SHIM =
  "import { createRequire as __slowpokeRequire } from 'node:module'; const require = __slowpokeRequire(import.meta.url);";

/** Writes the bundle to `outfile` (default dist/slowpoke.mjs); `plugins` go to esbuild. */
export async function build({ outfile = join(here, 'dist', 'slowpoke.mjs'), plugins = [] } = {}) {
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: [join(here, 'src', 'slowpoke.mjs')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    minifyWhitespace: true, // less source kept in the daemon's memory; names stay readable
    legalComments: 'none',
    logLevel: 'warning',
    // a dependency of heph's (xmldom, behind plist) repeats two methods on purpose
    logOverride: { 'duplicate-class-member': 'silent' },
    banner: { js: REQUIRE_SHIM },
    plugins,
  });
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`built ${await build()}`);
}
