#!/usr/bin/env node
// Bundles src/ into dist/: `heph.mjs` (the CLI) and `hephd.mjs` (the daemon entry), plus shared
// chunks so that `heph --version` loads only a few kilobytes. The result runs with no
// node_modules beside it. The version is baked in at build time (release builds pass their own).
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Build the bundle for `version` into `outdir` (default: the project's dist/). */
export async function build({ version, outdir = join(root, 'dist'), quiet = false } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const v = version ?? pkg.version;
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { heph: 'src/main.ts', hephd: 'src/hephd.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    sourcemap: false,
    minify: false,
    legalComments: 'none',
    logLevel: quiet ? 'error' : 'warning',
    define: { __HEPH_VERSION__: JSON.stringify(v) },
    // CommonJS dependencies (commander, semver, …) call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __hephCreateRequire } from 'node:module'; const require = __hephCreateRequire(import.meta.url);",
    },
  });
  return { outdir, version: v };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--version');
  const version = i > 0 ? process.argv[i + 1] : undefined;
  const { outdir, version: v } = await build({ version });
  console.log(`built heph ${v} into ${outdir}`);
}
