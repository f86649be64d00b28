// Which node the installed service runs: the first word of the unit's ExecStart (launchd:
// ProgramArguments), not the node of this shell. `heph doctor` and the runtime check of an
// install (install/runtime.ts) both ask here, so they cannot disagree.
import { execFileSync } from 'node:child_process';
import type { Env } from '../platform/paths.js';
import { launchd } from './launchd.js';
import { detectManager, type ManagerFacts } from './manager.js';
import type { Scope } from './spec.js';
import { systemd } from './systemd.js';
import { type InstalledUnit, readPlistUnit, readSystemdUnit } from './unitfile.js';
import { readTextIfExists } from '../platform/fs.js';

/** `node --version` answers in tens of milliseconds; a node that hangs is not the service's node. */
const NODE_VERSION_TIMEOUT_MS = 10_000;

/** The installed unit for the manager, user scope first (or only `only`); null when none is installed. */
export function findUnit(
  d: { env: Env; home: string },
  manager: 'systemd' | 'launchd',
  only?: Scope,
): { unit: InstalledUnit; scope: Scope } | null {
  const backend = manager === 'systemd' ? systemd : launchd;
  for (const scope of only ? [only] : (['user', 'system'] as const)) {
    const path = backend.unitPaths(scope, d.env, d.home)[0]!;
    const text = readTextIfExists(path);
    if (text === undefined) continue;
    return { unit: manager === 'systemd' ? readSystemdUnit(path, text) : readPlistUnit(path, text), scope };
  }
  return null;
}

export interface ServiceNode {
  path: string;
  /** `22.11.0`, or null when that node cannot be run. */
  version: string | null;
  /** Where the path came from. */
  source: 'unit' | 'this process';
}

/** The version `node` reports, without the `v`; this process's own without spawning. */
export function nodeVersion(path: string): string | null {
  if (path === process.execPath) return process.versions.node;
  try {
    const out = execFileSync(path, ['--version'], {
      encoding: 'utf8',
      timeout: NODE_VERSION_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return /^v?(\d+\.\d+\.\d+\S*)\s*$/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

export function serviceNode(d: { env: Env; home: string; facts: ManagerFacts }): ServiceNode {
  const manager = detectManager(d.facts);
  const node = manager ? findUnit(d, manager)?.unit.execStart[0] : undefined;
  const path = node ?? process.execPath;
  return { path, version: nodeVersion(path), source: node ? 'unit' : 'this process' };
}
