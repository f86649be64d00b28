// The update check, one use case of the engine (called by `heph update check`, the daemon's poll
// loop and `heph update apply`): list the forge's releases (I/O), then select (pure, in
// src/release/) with the policy from the config and this machine's facts (current version,
// quarantine, pause, rollout bucket).
import semver from 'semver';
import { type Config, DEFAULT_FORGE_URL } from '../config/schema.js';
import { readState } from './state.js';
import { createForgeClient } from '../forge/index.js';
import { showUrl } from '../forge/failures.js';
import type { ForgeClient, ReleaseList } from '../forge/types.js';
import { readQuarantined, readRolledBack } from '../install/launcher-state.js';
import { runtimeBlocks } from '../install/runtime.js';
import { readStore } from '../install/store.js';
import type { Deps } from '../platform/deps.js';
import { machineBucket } from './bucket.js';
import { channelReleases, select } from '../release/select.js';
import type { Reason, Selection, SelectionPolicy, VersionedRelease } from '../release/types.js';

export interface ReleaseCheck {
  /** The version compared against. */
  current: string;
  selection: Selection;
  /** Releases on the channel, newest first (with findVersion: prereleases included). */
  releases: VersionedRelease[];
  /** Requests, body bytes and whether every page was a 304 (the poll-cost benchmark). */
  list: ReleaseList;
  /** ISO time of the check. */
  checkedAt: string;
}

export interface CheckOptions {
  /** Page until this version or tag is found (update apply --version). */
  findVersion?: string;
  /** Default: the store's current version if any, else the running app's version. */
  current?: string;
  /** Default: read from state.json (a pause whose end has not passed). */
  paused?: boolean;
  /** Default: createForgeClient(config, deps). */
  client?: ForgeClient;
}

/** The version this machine runs: the store's `current` when it names a semver version, else the running one. */
export function currentVersion(deps: Deps): string {
  try {
    const current = readStore(deps.paths).current;
    if (current !== null && semver.valid(current) !== null) return current;
  } catch {
    // A store from another layout is reported by `heph doctor`; the check still works.
  }
  return deps.app.version;
}

/** True when a manual pause is in force at `now` (state.json, written by `heph update pause`). */
export function pausedNow(deps: Deps, now: number): boolean {
  const { guard } = readState(deps.paths);
  return guard.paused && (guard.pausedUntil === null || guard.pausedUntil > now);
}

/** The selection policy the config describes (no asset needed for the npm and command methods). */
export function policyFrom(
  config: Config,
  quarantined: readonly string[],
  paused: boolean,
  rolledBack: readonly string[] = [],
): SelectionPolicy {
  const u = config.update;
  return {
    channel: u.channel,
    allowMajor: u.allow_major,
    pin: u.pin,
    minReleaseAgeMs: u.min_release_age,
    rolloutWindowMs: u.rollout_window,
    tagPrefix: config.forge.tag_prefix,
    asset: config.install.method === 'bundle' ? config.install.asset : '',
    quarantined,
    rolledBack,
    paused,
  };
}

export async function checkForUpdate(
  config: Config,
  deps: Deps,
  opts: CheckOptions = {},
): Promise<ReleaseCheck> {
  const now = deps.clock.now();
  const current = opts.current ?? currentVersion(deps);
  const client = opts.client ?? createForgeClient(config, deps);
  const list = await client.listReleases(
    opts.findVersion !== undefined ? { find: opts.findVersion } : { running: current },
  );
  const policy = {
    ...policyFrom(
      config,
      readQuarantined(deps.paths),
      opts.paused ?? pausedNow(deps, now),
      readRolledBack(deps.paths),
    ),
    runtimeBlocked: await runtimeBlocks(deps),
  };
  const selection = select({
    releases: list.releases,
    current,
    policy,
    now,
    bucket: machineBucket(deps.paths, deps.env, deps.app),
  });
  // An explicit --version may name a prerelease even on the stable channel: the user asked for it.
  const listed = opts.findVersion !== undefined ? { ...policy, channel: 'prerelease' as const } : policy;
  return {
    current,
    selection,
    releases: channelReleases(list.releases, listed),
    list,
    checkedAt: new Date(now).toISOString(),
  };
}

export interface CheckReport {
  current: string;
  latest: string | null;
  candidate: string | null;
  available: boolean;
  reason: Reason | null;
  /** The release this report is about: the candidate, else the blocked one, else the latest. */
  release: {
    tag: string;
    version: string;
    url: string;
    publishedAt: string | null;
    prerelease: boolean;
  } | null;
  checkedAt: string;
  forge: { kind: string; repo: string; url: string };
  /** One sentence: what was found and why. */
  detail: string;
  /** For too-young and staged: when the blocked release becomes eligible (ISO). */
  eligibleAt: string | null;
  /** The newest release that is blocked (by `reason`), or null. */
  blocked: string | null;
  /** With reason `runtime`: what the blocked release needs, e.g. `{ "node": ">=22" }`. */
  requires?: { node: string };
  /** Requests made, body bytes read (0 when every page was a 304) and whether the ETag cache answered. */
  requests: number;
  bodyBytes: number;
  fromCache: boolean;
  /** Releases left out of the list because their entry could not be read, with why. */
  skipped: { tag: string | null; problem: string }[];
}

/** The `heph update check --json` document (docs/cli.md "update check"), plus the detail sentence and timing. */
export function checkReport(result: ReleaseCheck, config: Config): CheckReport {
  const s = result.selection;
  const about = s.candidate ?? s.blocked ?? s.latest;
  const forgeUrl = config.forge.url || DEFAULT_FORGE_URL[config.forge.kind] || '';
  return {
    current: result.current,
    latest: s.latest?.version ?? null,
    candidate: s.candidate?.version ?? null,
    available: s.candidate !== null,
    reason: s.reason,
    release: about
      ? {
          tag: about.tag,
          version: about.version,
          url: about.url,
          publishedAt: about.publishedAt,
          prerelease: about.prerelease || semver.prerelease(about.version) !== null,
        }
      : null,
    checkedAt: result.checkedAt,
    forge: { kind: config.forge.kind, repo: config.forge.repo, url: forgeUrl ? showUrl(forgeUrl) : '' },
    detail: s.detail,
    eligibleAt: s.eligibleAt === null ? null : new Date(s.eligibleAt).toISOString(),
    blocked: s.blocked?.version ?? null,
    ...(s.requires ? { requires: s.requires } : {}),
    requests: result.list.requests,
    bodyBytes: result.list.bodyBytes,
    fromCache: result.list.fromCache,
    skipped: (result.list.skipped ?? []).map((s) => ({ tag: s.tag, problem: s.problem })),
  };
}
