// The inputs and outputs of release selection (release/select.ts), a pure function.
import type { Release } from '../forge/types.js';

/** Why `candidate` is null: stable kebab-case words (docs/cli.md "update check"). */
export type Reason =
  | 'up-to-date'
  | 'no-semver-tags'
  | 'major-blocked'
  | 'too-young'
  | 'staged'
  | 'pinned'
  | 'quarantined'
  | 'rolled-back'
  | 'paused'
  | 'no-asset'
  | 'runtime';

export interface SelectionPolicy {
  channel: 'stable' | 'prerelease';
  allowMajor: boolean;
  /** Semver range auto installs must satisfy. */
  pin?: string | undefined;
  minReleaseAgeMs: number;
  rolloutWindowMs: number;
  tagPrefix: string;
  /**
   * Asset name template with {version} and {tag}, e.g. "heph-{version}.tgz". Empty when the
   * install method needs no asset (npm, command): then no release is blocked as `no-asset`.
   */
  asset: string;
  quarantined: readonly string[];
  /** Versions a person rolled back from: skipped until named by `update apply --version`. */
  rolledBack?: readonly string[];
  paused: boolean;
  /** Versions refused because their engines.node does not accept the service's node (install/runtime.ts). */
  runtimeBlocked?: readonly { version: string; needs: string; node: string }[];
}

export interface VersionedRelease extends Release {
  /** The semver version read from the tag (prefix stripped). */
  version: string;
}

export interface Selection {
  /** The newest release on the channel, eligible or not. */
  latest: VersionedRelease | null;
  /** What auto mode would install now, or null. */
  candidate: VersionedRelease | null;
  /** Why candidate is null; null when there is a candidate. */
  reason: Reason | null;
  /** For too-young and staged: epoch ms at which the blocked release becomes eligible. */
  eligibleAt: number | null;
  /** The release the reason is about (the newest one that was blocked), or null. */
  blocked: VersionedRelease | null;
  /** One human sentence: what was found and why, with the setting to change when blocked. */
  detail: string;
  /** For `runtime`: the node the blocked release needs (its engines.node). */
  requires?: { node: string };
}

export interface SelectionInput {
  releases: readonly Release[];
  current: string;
  policy: SelectionPolicy;
  now: number;
  /** This machine's stable rollout position in [0, 1): machineBucket() in release/bucket.ts. */
  bucket: number;
}
