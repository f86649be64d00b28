// heph itself: the first app built on the engine. Its names are the case name = "heph" (daemon
// hephd, HEPH_* variables); src/main.ts and src/hephd.ts run this app's command line.
import { VERSION } from '../version.js';
import { defineApp } from './define.js';
import type { AppIdentity } from './identity.js';

export const hephApp = defineApp({
  name: 'heph',
  version: VERSION,
  entry: 'dist/heph.mjs',
  description: 'keep a long-running service on the newest release of its forge, safely',
});

export const HEPH_APP: AppIdentity = hephApp.identity;
