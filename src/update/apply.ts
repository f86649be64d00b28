// `heph update apply` as a use case: which release to install (the candidate, or the exact
// version a person named), then the install. A person naming a version overrides the automatic
// skips (a rolled-back version; a quarantined one only with --yes). The daemon restart that
// follows is the caller's: the CLI asks a running daemon over the socket.
import type { Config } from '../config/schema.js';
import { HephError } from '../errors.js';
import type { ForgeClient } from '../forge/types.js';
import { type InstallResult, installRelease } from '../install/index.js';
import { clearRolledBack, readQuarantined } from '../install/launcher-state.js';
import type { Deps } from '../platform/deps.js';
import type { Reason, Selection, VersionedRelease } from '../release/types.js';

/** The part of a check apply reads (src/update/check.ts ReleaseCheck). */
export interface ApplyCheck {
  current: string;
  selection: Selection;
  releases: VersionedRelease[];
}

export type Choice =
  | { release: VersionedRelease; named: boolean }
  | { release: null; reason: Reason | null; detail: string };

function findRelease(releases: VersionedRelease[], wanted: string, prefix: string): VersionedRelease {
  const version = prefix && wanted.startsWith(prefix) ? wanted.slice(prefix.length) : wanted;
  const r = releases.find((x) => x.version === version || x.tag === wanted);
  if (!r) {
    throw new HephError('E_NOT_FOUND', `the forge has no release ${wanted}`, {
      hint: '`heph update check --json` lists what the forge offers',
    });
  }
  return r;
}

/** The release to install: the named one (a quarantined one only with `force`), else the candidate. */
export function chooseRelease(
  check: ApplyCheck,
  wanted: { version?: string; force?: boolean },
  config: Config,
  deps: Deps,
): Choice {
  if (wanted.version !== undefined) {
    const release = findRelease(check.releases, wanted.version, config.forge.tag_prefix);
    if (readQuarantined(deps.paths).includes(release.version) && !wanted.force) {
      throw new HephError('E_USAGE', `${release.version} is quarantined (it failed to start here before)`, {
        hint: `add --yes to install ${release.version} anyway`,
      });
    }
    return { release, named: true };
  }
  const { candidate, reason, detail } = check.selection;
  return candidate ? { release: candidate, named: false } : { release: null, reason, detail };
}

export interface ApplyInput {
  config: Config;
  deps: Deps;
  client: ForgeClient;
  release: VersionedRelease;
  /** The person named this version: it is no longer skipped as rolled back. */
  named: boolean;
  onProgress?: (received: number, total: number | null) => void;
}

export async function applyRelease(input: ApplyInput): Promise<InstallResult> {
  const { config, deps, client, release } = input;
  const result = await installRelease({ config, deps, client, release, onProgress: input.onProgress });
  if (input.named) clearRolledBack(deps.paths, release.version);
  return result;
}
