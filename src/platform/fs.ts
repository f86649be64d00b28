// Small filesystem helpers that every module needs to get right once: atomic replace and
// tolerant reads.
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  openSync,
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  renameSync,
  rmSync,
  writeSync,
  readFileSync,
  lstatSync,
  readlinkSync,
} from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { HephError } from '../errors.js';

/** What to do about a write that failed, by errno: the reasons an operator can fix. */
const WRITE_HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full: free space on the filesystem that holds it, then try again',
  EDQUOT: 'the disk quota is used up: free space or raise the quota, then try again',
  EACCES: "check the folder's owner and permissions (heph runs as the service's user)",
  EPERM: "check the folder's owner and permissions (heph runs as the service's user)",
  EROFS: 'the filesystem is read-only: point HEPH_HOME or the XDG folders at a writable one',
};

/**
 * A write to `file` that failed, as E_IO: the file, the errno, what it means for the user
 * (`outcome`, e.g. "it is unchanged") and, as the hint, what to do about that errno.
 */
export function writeFailure(file: string, e: unknown, outcome: string): HephError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  return new HephError('E_IO', `cannot write ${file} (${code}); ${outcome}`, {
    hint: WRITE_HINTS[code] ?? 'check the folder exists and is writable, then try again',
    cause: e,
    details: { file, errno: code },
  });
}

/**
 * Replace `file` with `content` so that a reader (or a crash) sees either the old or the new
 * bytes, never a mix: write a temp file beside it, fsync, rename over, fsync the folder. A write
 * that fails (disk full, permissions) removes its temp file, leaves `file` as it was, and is
 * reported as E_IO naming `file`.
 */
export function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  mode = 0o600,
  /** Give the new file this owner before it replaces the old one (root keeping a file's owner). */
  owner?: { uid: number; gid: number },
): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let created = false;
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w', mode);
    created = true;
    try {
      writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
      if (owner) {
        fchownSync(fd, owner.uid, owner.gid);
        fchmodSync(fd, mode); // openSync's mode went through the umask; chown may clear bits
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    if (created) rmSync(tmp, { force: true });
    throw writeFailure(file, e, 'it is unchanged');
  }
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** The file's text, or undefined when it does not exist. Other errors propagate. */
export function readTextIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Symlinks followed before heph gives up, as the kernel's own ELOOP limit. */
const MAX_SYMLINK_HOPS = 40;

/**
 * The file a write to `file` should replace so that a symlink stays a symlink: `file` itself, or
 * the end of its chain of links (which may not exist yet: a dangling link's target is created).
 * Only for files a person placed (the config); never for heph's own state, where a planted link
 * must not redirect a write.
 */
export function symlinkTarget(file: string): string {
  let path = file;
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
    let isLink: boolean;
    try {
      isLink = lstatSync(path).isSymbolicLink();
    } catch {
      return path; // does not exist (yet): write here
    }
    if (!isLink) return path;
    path = resolve(dirname(path), readlinkSync(path));
  }
  throw new HephError('E_IO', `${file}: more than ${MAX_SYMLINK_HOPS} symbolic links in a row (a loop?)`, {
    hint: 'point the link at a regular file',
    details: { file },
  });
}
