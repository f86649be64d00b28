// Runtime requirements: a release whose package.json `engines.node` does not accept the node the
// service runs is refused after download and before anything changes, and remembered in
// <state>/runtime.json so that selection skips it (reason `runtime`) until that node changes.
import { homedir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { HephError } from '../errors.js';
import type { Deps } from '../platform/deps.js';
import { corruptReporter } from '../audit/corrupt.js';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import { readJsonState } from '../platform/state-file.js';
import type { Paths } from '../platform/paths.js';
import type { ServiceNode } from '../service/service-node.js';

export interface RuntimeRefusal {
  version: string;
  /** The release's engines.node range. */
  needs: string;
  /** The service's node version when it was refused. */
  node: string;
  at: string;
}

export function runtimeFile(paths: Paths): string {
  return join(paths.state, 'runtime.json');
}

function parseRefusals(value: unknown): RuntimeRefusal[] | string {
  const list = (value as { refused?: unknown } | null)?.refused;
  if (!Array.isArray(list)) return 'refused: expected a list';
  const ok = list.every(
    (r) => typeof r?.version === 'string' && typeof r?.needs === 'string' && typeof r?.node === 'string',
  );
  return ok ? (list as RuntimeRefusal[]) : 'refused: expected {version, needs, node} entries';
}

/** The recorded refusals; a corrupt file is set aside and reported (state-file.ts), then re-learned. */
export function readRuntimeRefusals(paths: Paths): RuntimeRefusal[] {
  return (
    readJsonState(runtimeFile(paths), parseRefusals, { onSetAside: corruptReporter(paths.auditFile) }) ?? []
  );
}

function remember(paths: Paths, r: RuntimeRefusal): void {
  const list = readRuntimeRefusals(paths).filter((x) => x.version !== r.version);
  list.push(r);
  writeFileAtomic(runtimeFile(paths), `${JSON.stringify({ refused: list }, null, 2)}\n`, 0o600);
}

/** engines.node of an extracted release (its package.json at `dir`), or null when it sets none. */
export function enginesNode(dir: string): string | null {
  try {
    const pkg = JSON.parse(readTextIfExists(join(dir, 'package.json')) ?? '{}') as {
      engines?: { node?: unknown };
    };
    const range = pkg.engines?.node;
    return typeof range === 'string' && range.trim() !== '' ? range : null;
  } catch {
    return null;
  }
}

/** True when `node` satisfies `range` (prerelease nodes count as their release). */
export function nodeAccepts(range: string, node: string): boolean {
  if (semver.validRange(range) === null) return true; // not ours to judge: the smoke test will
  return semver.satisfies(node, range, { includePrerelease: true });
}

/**
 * The node the installed service runs. Imported on demand: the unit readers bring the service
 * backends (and plist) along, which `heph update check` and an idle daemon do not otherwise load.
 */
export async function resolveServiceNode(deps: Deps): Promise<ServiceNode> {
  const [{ serviceNode }, { readManagerFacts }] = await Promise.all([
    import('../service/service-node.js'),
    import('../service/manager.js'),
  ]);
  return serviceNode({ env: deps.env, home: deps.env.HOME ?? homedir(), facts: readManagerFacts() });
}

/**
 * Throws E_PREFLIGHT (details.reason `runtime`) and records the refusal when the release in `dir`
 * needs another node than `node`. A node whose version cannot be read is not judged.
 */
export async function checkRuntime(
  dir: string,
  version: string,
  deps: Deps,
  given?: ServiceNode,
): Promise<void> {
  const needs = enginesNode(dir);
  if (needs === null) return;
  const node = given ?? (await resolveServiceNode(deps));
  if (node.version === null) {
    deps.logger.warn(
      { node: node.path, needs },
      'cannot run the service node to read its version; engines.node not checked',
    );
    return;
  }
  if (nodeAccepts(needs, node.version)) return;
  remember(deps.paths, { version, needs, node: node.version, at: new Date(deps.clock.now()).toISOString() });
  throw new HephError(
    'E_PREFLIGHT',
    `${deps.app.name} ${version} needs node ${needs} (its package.json engines.node), but the service runs node ${node.version} (${node.path})`,
    {
      hint: 'upgrade the node the service runs, then run `heph daemon install` so the unit uses it; this version is skipped until then',
      details: { reason: 'runtime', needs, node: node.version, nodePath: node.path },
    },
  );
}

/** The refusals that still hold for the service's node now; [] without spawning when there are none. */
export async function runtimeBlocks(deps: Deps, given?: ServiceNode): Promise<RuntimeRefusal[]> {
  const list = readRuntimeRefusals(deps.paths);
  if (list.length === 0) return [];
  const now = given ?? (await resolveServiceNode(deps));
  if (now.version === null) return list;
  return list.filter((r) => !nodeAccepts(r.needs, now.version!)).map((r) => ({ ...r, node: now.version! }));
}
