// Release selection: from the forge's releases, the current version, the policy and the clock,
// which release auto mode would install now, or why none. Pure and order-independent.
import semver from 'semver';
import { formatDuration, humanDuration } from '../config/duration.js';
import { HephError } from '../errors.js';
import type { Release } from '../forge/types.js';
import { versionFromTag } from '../forge/tag.js';
import { assetName, isMajorUpgrade } from './version.js';
import type { Reason, Selection, SelectionInput, SelectionPolicy, VersionedRelease } from './types.js';

/** Why one release newer than current cannot be installed now; null when it can. */
interface Block {
  reason: Exclude<Reason, 'up-to-date' | 'no-semver-tags' | 'paused'>;
  eligibleAt: number | null;
  detail: string;
  requires?: { node: string };
}

/** Epoch ms of publication, or null when unpublished (or a date the forge garbled). */
export function publishedMs(r: Release): number | null {
  if (r.publishedAt === null) return null;
  const ms = Date.parse(r.publishedAt);
  return Number.isNaN(ms) ? null : ms;
}

/** A prerelease if the forge says so OR the version has a prerelease part (1.5.0-rc.1). */
export function isPrerelease(r: VersionedRelease): boolean {
  return r.prerelease || semver.prerelease(r.version) !== null;
}

/**
 * Newest first by semver precedence; forges order by date or id, which is not version order
 * (a 1.9.5 backport published after 2.0.0). Ties (`v1.2.3` and `1.2.3`, or two builds of one
 * version) are broken by plain fields so the result never depends on the input order.
 */
function newestFirst(a: VersionedRelease, b: VersionedRelease): number {
  return (
    semver.rcompare(a.version, b.version) ||
    compareText(a.tag, b.tag) ||
    compareText(a.publishedAt ?? '', b.publishedAt ?? '') ||
    compareText(a.url, b.url) ||
    compareText(JSON.stringify(a), JSON.stringify(b))
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The releases on the policy's channel, newest first: drafts, unpublished and non-semver tags dropped. */
export function channelReleases(releases: readonly Release[], policy: SelectionPolicy): VersionedRelease[] {
  const out: VersionedRelease[] = [];
  for (const r of releases) {
    if (r.draft || publishedMs(r) === null) continue;
    const version = versionFromTag(r.tag, policy.tagPrefix);
    if (version === null) continue;
    const v: VersionedRelease = { ...r, version };
    if (policy.channel === 'stable' && isPrerelease(v)) continue;
    out.push(v);
  }
  return out.sort(newestFirst);
}

/** True when `r` is on a list of versions or tags (quarantined, rolled back). */
function isListed(r: VersionedRelease, list: readonly string[]): boolean {
  return list.some((q) => q === r.tag || (semver.valid(q) !== null && semver.eq(q, r.version)));
}

/**
 * The first rule that keeps `r` (newer than current) from being installed now. The order is the
 * order an operator would fix things in: settings that never allow it, then facts about the
 * release, then time, which fixes itself.
 */
function blockOf(r: VersionedRelease, input: SelectionInput): Block | null {
  const { policy, current, now, bucket } = input;
  const v = r.version;
  if (!policy.allowMajor && isMajorUpgrade(current, v)) {
    return {
      reason: 'major-blocked',
      eligibleAt: null,
      detail: `${v} is a major upgrade; set update.allow_major = true to allow it`,
    };
  }
  if (
    policy.pin !== undefined &&
    !semver.satisfies(v, policy.pin, { includePrerelease: policy.channel === 'prerelease' })
  ) {
    return { reason: 'pinned', eligibleAt: null, detail: `${v} is outside update.pin "${policy.pin}"` };
  }
  if (isListed(r, policy.quarantined)) {
    return {
      reason: 'quarantined',
      eligibleAt: null,
      detail: `${v} is quarantined (it failed to start); run \`heph update history\` for details`,
    };
  }
  if (isListed(r, policy.rolledBack ?? [])) {
    return {
      reason: 'rolled-back',
      eligibleAt: null,
      detail: `${v} was rolled back by hand and is skipped until a newer release; \`heph update apply --version ${v}\` installs it anyway`,
    };
  }
  const runtime = policy.runtimeBlocked?.find(
    (b) => semver.valid(b.version) !== null && semver.eq(b.version, v),
  );
  if (runtime) {
    return {
      reason: 'runtime',
      eligibleAt: null,
      requires: { node: runtime.needs },
      detail: `${v} needs node ${runtime.needs} (its engines.node); the service runs node ${runtime.node}`,
    };
  }
  // An empty template means the install method needs no asset (npm, command).
  if (policy.asset !== '') {
    const name = assetName(policy.asset, v, r.tag);
    if (!r.assets.some((a) => a.name === name)) {
      return {
        reason: 'no-asset',
        eligibleAt: null,
        detail: `${v} has no asset ${name}; check install.asset`,
      };
    }
  }
  const published = publishedMs(r) as number; // channelReleases dropped unpublished ones
  const oldEnough = published + policy.minReleaseAgeMs;
  // Each machine waits its own stable share of the window, so a bad release reaches a
  // fraction of the fleet before the rest (and can be quarantined or pulled meanwhile).
  const eligibleAt = oldEnough + Math.floor(bucket * policy.rolloutWindowMs);
  if (now < oldEnough) {
    const age = now - published;
    const when = humanDuration(eligibleAt - now);
    const detail =
      age < 0
        ? `${v} has a publish time in the future (clock skew?); it becomes eligible in ${when}`
        : `${v} was published ${humanDuration(age)} ago; update.min_release_age is ` +
          `${formatDuration(policy.minReleaseAgeMs)}, so it becomes eligible in ${when}`;
    return { reason: 'too-young', eligibleAt, detail };
  }
  if (now < eligibleAt) {
    return {
      reason: 'staged',
      eligibleAt,
      detail: `${v} is staged for this machine: eligible in ${humanDuration(eligibleAt - now)} (update.rollout_window)`,
    };
  }
  return null;
}

/**
 * The tags of a list none of whose releases carries a semver tag (drafts aside), or null when
 * some does or the list is empty. Such a list is not "up to date": heph cannot read versions
 * from it at all (a forge.tag_prefix that does not match, tags like `nightly` or `2024-06-01`).
 */
function unreadableTags(releases: readonly Release[], prefix: string): string[] | null {
  const published = releases.filter((r) => !r.draft);
  if (published.length === 0) return null;
  if (published.some((r) => versionFromTag(r.tag, prefix) !== null)) return null;
  return [...new Set(published.map((r) => r.tag))].sort();
}

function upToDateDetail(latest: VersionedRelease | null, current: string, channel: string): string {
  if (latest === null) return `no ${channel} releases found (current ${current})`;
  if (semver.eq(latest.version, current)) return `${current} is the newest release (up to date)`;
  return `${current} is newer than the newest ${channel} release ${latest.version} (up to date)`;
}

/**
 * What auto mode would install now: the HIGHEST release newer than `current` that passes every
 * rule (docs/policies.md "Release selection"). When there is none, `reason` and `blocked` describe the NEWEST
 * newer release, since that is the one an operator is asking about.
 */
export function select(input: SelectionInput): Selection {
  const { policy, current } = input;
  if (semver.valid(current) === null) {
    throw new HephError('E_INTERNAL', `the running version "${current}" is not a semver version`, {
      hint: 'build heph with a semver version in package.json (e.g. 1.2.3 or 1.3.0-dev.1)',
    });
  }
  const releases = channelReleases(input.releases, policy);
  const latest = releases[0] ?? null;
  const newer = releases.filter((r) => semver.gt(r.version, current));
  const unreadable = newer.length === 0 ? unreadableTags(input.releases, policy.tagPrefix) : null;
  if (unreadable !== null) {
    const shown = unreadable
      .slice(0, 3)
      .map((t) => JSON.stringify(t))
      .join(', ');
    const more = unreadable.length > 3 ? ` and ${unreadable.length - 3} more` : '';
    return {
      latest: null,
      candidate: null,
      reason: 'no-semver-tags',
      eligibleAt: null,
      blocked: null,
      detail:
        `none of the ${unreadable.length} release tags is a semver version (${shown}${more}) ` +
        `with forge.tag_prefix "${policy.tagPrefix}"; tag releases like ${policy.tagPrefix}1.2.3 ` +
        'or set forge.tag_prefix',
    };
  }
  if (newer.length === 0) {
    return {
      latest,
      candidate: null,
      reason: 'up-to-date',
      eligibleAt: null,
      blocked: null,
      detail: upToDateDetail(latest, current, policy.channel),
    };
  }

  let newestBlock: { release: VersionedRelease; block: Block } | null = null;
  let candidate: VersionedRelease | null = null;
  for (const r of newer) {
    const block = blockOf(r, input);
    if (block === null) {
      candidate = r;
      break;
    }
    newestBlock ??= { release: r, block };
  }

  if (candidate !== null && policy.paused) {
    return {
      latest,
      candidate: null,
      reason: 'paused',
      eligibleAt: null,
      blocked: candidate,
      detail: `updates are paused (${candidate.version} is available); run \`heph update resume\``,
    };
  }
  if (candidate !== null) {
    // A lower release may be taken while a newer one waits; say both so nobody wonders why.
    const also = newestBlock ? `; ${newestBlock.block.detail}` : '';
    return {
      latest,
      candidate,
      reason: null,
      eligibleAt: null,
      blocked: null,
      detail: `${candidate.version} is available (current ${current})${also}`,
    };
  }
  const { release, block } = newestBlock as { release: VersionedRelease; block: Block };
  return {
    latest,
    candidate: null,
    reason: block.reason,
    eligibleAt: block.eligibleAt,
    blocked: release,
    detail: block.detail,
    ...(block.requires ? { requires: block.requires } : {}),
  };
}
