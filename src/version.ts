// The version of this build. esbuild replaces __HEPH_VERSION__ at bundle time; when the sources
// run unbundled (vitest), package.json is the answer.
import { createRequire } from 'node:module';

declare const __HEPH_VERSION__: string | undefined;

function readVersion(): string {
  if (typeof __HEPH_VERSION__ === 'string') return __HEPH_VERSION__;
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

export const VERSION: string = readVersion();
