// Reading versions out of release tags: what every forge client and the static index writer need,
// and what selection (src/release/) builds on. Pure.
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
 * The version a person named on the command line (`update apply --version X`), or null when the
 * text names none: empty (an unset shell variable), blank, or not a version even with `prefix`.
 * An empty value must never mean "the newest": that would install what nobody asked for.
 */
export function requestedVersion(text: string, prefix: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  return versionFromTag(t, prefix);
}
