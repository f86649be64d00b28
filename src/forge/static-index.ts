// `heph release index DIR`: writes DIR/index.json for a folder of release folders named by tag,
// the static release source's only file. Stable across runs: a release keeps its publishedAt.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { HephError } from '../errors.js';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import { versionFromTag } from './tag.js';
import { describeIssue } from './payload.js';
import { INDEX_FILE, staticIndexSchema, staticReleaseSchema } from './static.js';

/** Tags are read with this prefix optional (v1.2.3 and 1.2.3), like the default forge.tag_prefix. */
export const INDEX_TAG_PREFIX = 'v';
/** index.json is read by every machine of a fleet from a static host: world-readable. */
const INDEX_MODE = 0o644;

export interface IndexedRelease {
  tag: string;
  prerelease: boolean;
  publishedAt: string;
  notes: string;
  assets: { name: string; url: string; size: number }[];
}

export interface IndexResult {
  file: string;
  releases: IndexedRelease[];
  /** Folder entries left out, with why. */
  skipped: { name: string; reason: string }[];
}

/** What an existing index says per tag (publishedAt and notes are kept so the file stays stable). */
function previousIndex(file: string): Map<string, { publishedAt: string; notes: string }> {
  const text = readTextIfExists(file);
  const out = new Map<string, { publishedAt: string; notes: string }>();
  if (text === undefined) return out;
  const refuse = (why: string) =>
    new HephError('E_CONFIG', `${file} is not a heph release index: ${why}`, {
      hint: 'move it away (heph rewrites it from the release folders), then run the command again',
      details: { file },
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw refuse('invalid JSON');
  }
  const index = staticIndexSchema.safeParse(json, { reportInput: true });
  if (!index.success) throw refuse(describeIssue(index.error.issues[0]!));
  index.data.releases.forEach((item, i) => {
    const r = staticReleaseSchema.safeParse(item, { reportInput: true });
    if (!r.success) throw refuse(`release ${i}: ${describeIssue(r.error.issues[0]!)}`);
    out.set(r.data.tag, { publishedAt: r.data.publishedAt, notes: r.data.notes ?? '' });
  });
  return out;
}

/** Scans DIR and writes DIR/index.json atomically; returns what it wrote and what it skipped. */
export function writeReleaseIndex(dir: string): IndexResult {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    entries = readdirSync(dir).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HephError('E_NOT_FOUND', `cannot read the release folder ${dir} (${code})`, {
      hint: 'name a folder holding one folder per release tag, e.g. DIR/v1.2.3/heph-1.2.3.tgz',
      details: { file: dir },
    });
  }
  const file = join(dir, INDEX_FILE);
  const before = previousIndex(file);
  const releases: (IndexedRelease & { version: string })[] = [];
  const skipped: IndexResult['skipped'] = [];
  for (const name of entries) {
    const path = join(dir, name);
    if (name.startsWith('.') || !statSync(path).isDirectory()) continue;
    const version = versionFromTag(name, INDEX_TAG_PREFIX);
    if (version === null) {
      skipped.push({ name, reason: 'not a semver tag' });
      continue;
    }
    const assets = readdirSync(path)
      .sort()
      .filter((f) => !f.startsWith('.') && statSync(join(path, f)).isFile())
      .map((f) => ({
        name: f,
        url: `${encodeURIComponent(name)}/${encodeURIComponent(f)}`,
        size: statSync(join(path, f)).size,
      }));
    if (assets.length === 0) {
      skipped.push({ name, reason: 'no files' });
      continue;
    }
    const kept = before.get(name);
    releases.push({
      tag: name,
      version,
      prerelease: semver.prerelease(version) !== null,
      publishedAt: kept?.publishedAt ?? statSync(path).mtime.toISOString(),
      notes: kept?.notes ?? '',
      assets,
    });
  }
  releases.sort((a, b) => semver.rcompare(a.version, b.version) || (a.tag < b.tag ? -1 : 1));
  const out: IndexedRelease[] = releases.map(({ version: _v, ...r }) => r);
  writeFileAtomic(file, `${JSON.stringify({ releases: out }, null, 2)}\n`, INDEX_MODE);
  return { file, releases: out, skipped };
}
