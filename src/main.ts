#!/usr/bin/env node
// Entry point of `heph`: answers `--version` before loading anything else (cold start), builds
// the effects, runs the command line, and is the one place that turns errors into a message, a
// hint and an exit code.

/**
 * Baked in by esbuild (scripts/build.mjs `define`). Read here rather than imported from
 * version.ts so that `heph --version` loads no other file: each extra ES module costs a few ms
 * of a ~30 ms start (bench/cold-start). Unbundled, it is undefined and commander answers.
 */
declare const __HEPH_VERSION__: string | undefined;

/**
 * One line straight to fd 1. Touching process.stdout would build a stream (~2.5 ms), and a static
 * `import 'node:fs'` costs more than that in an ES module; the built-in is already loaded. A
 * failed direct write (a full non-blocking pipe) falls back to the stream, which waits.
 */
function printLine(text: string): void {
  try {
    process.getBuiltinModule('node:fs').writeSync(1, `${text}\n`);
  } catch {
    process.stdout.write(`${text}\n`);
  }
}

const argv = process.argv.slice(2);
const version = typeof __HEPH_VERSION__ === 'string' ? __HEPH_VERSION__ : undefined;
if (version !== undefined && argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  printLine(version);
} else {
  const { hephApp } = await import('./lib/heph.js');
  await hephApp.main(argv);
}
