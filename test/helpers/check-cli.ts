// What the `heph update check` test files share: a scratch home set up as a machine running a
// given version, a config pointing at the loopback forge, releases with their bundle asset.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureStore, swapCurrent } from '../../src/install/store.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { runHeph, type Scratch } from './cli.js';
import type { TestForge } from './forge-server.js';

/** Makes `version` the store's current version, as an install would (the check compares against it). */
export function runningVersion(h: Scratch, version: string): void {
  const paths = resolvePaths(h.env);
  ensureStore(paths);
  for (const f of paths.versionFiles) {
    const file = join(paths.store, version, f);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f === 'package.json' ? JSON.stringify({ name: 'heph', version }) : '');
  }
  swapCurrent(paths, version);
}

/** config.toml with the forge table for `f`, then `extra` (more TOML tables) as written. */
export function configure(h: Scratch, f: TestForge, extra = ''): void {
  h.writeConfig(`[forge]\nkind = "${f.kind}"\nurl = "${f.url}"\nrepo = "${f.repo}"\n${extra}`);
}

export interface ReleaseOptions {
  draft?: boolean;
  prerelease?: boolean;
  publishedAt?: string;
}

/** Publishes `v<version>` with the asset the default install.asset template names. */
export function release(f: TestForge, version: string, opts: ReleaseOptions = {}): void {
  f.publish({
    tag: `v${version}`,
    ...opts,
    assets: [{ name: `heph-${version}.tgz`, content: `heph ${version}` }],
  });
}

/** `heph update check --json` with its parsed stdout. */
export async function checkJson(h: Scratch, env: Record<string, string> = {}) {
  const r = await runHeph(['update', 'check', '--json'], { ...h.env, ...env });
  return { ...r, doc: JSON.parse(r.stdout) as Record<string, unknown> };
}
