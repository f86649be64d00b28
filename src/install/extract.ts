// Safe extraction of a release tarball (npm-pack layout) into a folder, `package/` stripped.
// Every entry is checked BEFORE anything is written; one bad entry refuses the whole archive.
//
// Refused: absolute paths, `..` segments, entries outside `package/`, symbolic or hard links whose
// target leaves the package, devices, fifos and any other special type, and archives so large or
// so numerous they could only be a decompression bomb. node-tar would silently rewrite some of
// these; heph refuses instead, because a release that carries them was not built by `npm run
// release` and must not be half-trusted.
import { posix } from 'node:path';
import * as tar from 'tar';
import { HephError } from '../errors.js';

/** heph's own bundle is a few MB; a hundredfold leaves room for growth and stops zip bombs. */
export const MAX_EXTRACTED_BYTES = 512 * 1024 * 1024;
/** The bundle has a few dozen files; more than this is not a heph release. */
export const MAX_ENTRIES = 10_000;
export const PACKAGE_PREFIX = 'package';

const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);
const LINKS = new Set(['SymbolicLink', 'Link']);

function unsafe(entry: string, why: string): HephError {
  return new HephError('E_UNSAFE_ARCHIVE', `the release archive has an unsafe entry "${entry}": ${why}`, {
    hint: 'nothing was installed; this archive was not made by `npm run release` — report it to the publisher',
    details: { entry },
  });
}

/** The entry's path split in segments, or a reason it is refused. */
function segments(path: string): string[] | string {
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) return 'is an absolute path';
  const parts = path.split(/[/\\]/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return 'contains ".."';
  if (parts[0] !== PACKAGE_PREFIX) return `is outside ${PACKAGE_PREFIX}/`;
  return parts;
}

/** Checks one entry (type, path, link target). Exported for the unit tests' table. */
export function checkEntry(e: { path: string; type: string; linkpath?: string | undefined }): void {
  const parts = segments(e.path);
  if (typeof parts === 'string') throw unsafe(e.path, parts);
  if (e.type === 'Directory' || REGULAR.has(e.type)) return;
  if (!LINKS.has(e.type)) throw unsafe(e.path, `is a special file (${e.type})`);
  const link = e.linkpath ?? '';
  if (link === '' || link.startsWith('/') || /^[A-Za-z]:/.test(link)) {
    throw unsafe(e.path, `links to an absolute path "${link}"`);
  }
  // A symlink resolves from its own folder; a hard link's target is an archive path.
  const resolved =
    e.type === 'SymbolicLink'
      ? posix.normalize(posix.join(posix.dirname(parts.join('/')), link))
      : posix.normalize(link);
  const target = resolved.split('/');
  if (target[0] !== PACKAGE_PREFIX || target.includes('..') || target.length < 2) {
    throw unsafe(e.path, `links outside the package ("${link}")`);
  }
}

/**
 * Lists the archive and checks every entry; throws E_UNSAFE_ARCHIVE naming the first bad one.
 * A corrupt gzip/tar stream is E_UNSAFE_ARCHIVE too (it passed its checksum, so it was built so).
 */
export async function checkArchive(file: string): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  let bad: HephError | null = null;
  try {
    await tar.t({
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (bad) return;
        entries++;
        bytes += entry.size ?? 0;
        try {
          checkEntry({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
          if (entries > MAX_ENTRIES) throw unsafe(entry.path, `more than ${MAX_ENTRIES} entries`);
          if (bytes > MAX_EXTRACTED_BYTES)
            throw unsafe(entry.path, `more than ${MAX_EXTRACTED_BYTES} bytes unpacked`);
        } catch (e) {
          bad = e as HephError;
        }
      },
    });
  } catch (e) {
    throw new HephError('E_UNSAFE_ARCHIVE', `the release archive cannot be read: ${(e as Error).message}`, {
      hint: 'nothing was installed; the archive is corrupt',
      cause: e,
    });
  }
  if (bad) throw bad;
  if (entries === 0) throw new HephError('E_UNSAFE_ARCHIVE', 'the release archive is empty');
  return { entries, bytes };
}

/** Checks, then extracts `file` into the existing empty folder `dest` with `package/` stripped. */
export async function extractRelease(
  file: string,
  dest: string,
): Promise<{ entries: number; bytes: number }> {
  const summary = await checkArchive(file);
  await tar.x({
    file,
    cwd: dest,
    strip: 1,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    // Defence in depth: the same check again on what is actually being written.
    filter: (_path, entry) => {
      const e = entry as tar.ReadEntry;
      checkEntry({ path: e.path, type: e.type, linkpath: e.linkpath });
      return true;
    },
  });
  return summary;
}
