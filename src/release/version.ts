// semver's caret rule for "is this a breaking upgrade", and the asset name a release must carry.
// Pure; selection (select.ts) builds on these and on forge/tag.ts (reading versions out of tags).
import semver from 'semver';

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
