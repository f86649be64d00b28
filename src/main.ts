#!/usr/bin/env node
// Entry point of `heph`: answers `--version` before loading anything else (cold start), builds
// the effects, runs the command line, and is the one place that turns errors into a message, a
// hint and an exit code.
import { VERSION } from './version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { runCli } = await import('./cli/program.js');
  process.exitCode = await runCli(argv);
}
