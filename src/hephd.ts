#!/usr/bin/env node
// Entry point of `hephd`: the same program as `heph daemon run`.
// A SIGHUP (`systemctl reload`) while starting must not end the process (Node's default): the
// config is read at start anyway, and the daemon takes over SIGHUP once it has read it
// (src/daemon/lifecycle.ts).
process.on('SIGHUP', () => {});
const { hephApp } = await import('./lib/heph.js');
const rest = process.argv.slice(2);
await hephApp.main(rest.includes('--version') ? rest : ['daemon', 'run', ...rest]);
