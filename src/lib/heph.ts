// heph itself: the first app built on the engine. Its names are the case name = "heph" (daemon
// hephd, HEPH_* variables); src/main.ts and src/hephd.ts run this app's command line.
import { HEPH_APP } from '../app/identity.js';
import { defineApp } from './define.js';

export const hephApp = defineApp({
  name: HEPH_APP.name,
  version: HEPH_APP.version,
  entry: HEPH_APP.entry,
  description: 'keep a long-running service on the newest release of its forge, safely',
});
