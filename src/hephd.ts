#!/usr/bin/env node
// Entry point of `hephd`: the same program as `heph daemon run`.
const { hephApp } = await import('./lib/heph.js');
const rest = process.argv.slice(2);
await hephApp.main(rest.includes('--version') ? rest : ['daemon', 'run', ...rest]);
