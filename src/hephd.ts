#!/usr/bin/env node
// Entry point of `hephd`: the same program as `heph daemon run`.
const { runCli } = await import('./cli/program.js');
const rest = process.argv.slice(2);
process.exitCode = await runCli(rest.includes('--version') ? rest : ['daemon', 'run', ...rest]);
