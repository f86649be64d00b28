#!/usr/bin/env node
// slowpoke's program: `slowpoke daemon run` (what its unit runs), `slowpoke sleep`, and heph's
// whole command line under slowpoke's name (status, update, daemon, doctor, config, release).
import { app } from './app.mjs';

await app.main(process.argv.slice(2));
