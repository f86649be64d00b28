// Reading versions out of release tags, semver's caret rule for "is this a breaking upgrade",
// and the asset name a release must carry. Pure; selection (select.ts) builds on these.
import semver from 'semver';

/** A version must be plain text: no spaces, and it starts with a digit once the prefix is gone. */
const VERSION_START = /^\d\S*$/;

/**
 * The semver version a tag names, or null when it names none. `prefix` is optional in the tag,
 * so with prefix "v" both `v1.2.3` and `1.2.3` read as 1.2.3; `vv1.2.3`, `latest` and `1.2`
 * read as null. semver's strict parser is used: no coercion of garbage into a version.
 * Build metadata (`1.2.3+linux`) is kept, so `{version}` in asset names matches the tag.
 */
export function versionFromTag(tag: string, prefix: string): string | null {
  const rest = prefix !== '' && tag.startsWith(prefix) ? tag.slice(prefix.length) : tag;
  if (!VERSION_START.test(rest)) return null;
  return semver.valid(rest) === null ? null : rest;
}

/**
 * True when `to` is outside semver's caret range of `from`: 1.x -> 2.0 is major; on 0.x a minor
 * bump (0.3 -> 0.4) is major, because 0.x promises no compatibility between minors; on 0.0.x any
 * bump is. A prerelease of the same line (1.9.0 -> 2.0.0-rc.1) counts as major too, while
 * 2.0.0-rc.1 -> 2.0.0 does not. Downgrades and equal versions are not major upgrades.
 */
export function isMajorUpgrade(from: string, to: string): boolean {
  const a = semver.parse(from);
  const b = semver.parse(to);
  if (!a || !b || semver.compare(b, a) <= 0) return false;
  if (a.major > 0) return b.major > a.major;
  if (a.minor > 0) return b.major > 0 || b.minor > a.minor;
  return b.major > 0 || b.minor > 0 || b.patch > a.patch;
}

/** The asset name for a release: `{version}` and `{tag}` replaced everywhere in the template. */
export function assetName(template: string, version: string, tag: string): string {
  return template.replaceAll('{version}', version).replaceAll('{tag}', tag);
}
