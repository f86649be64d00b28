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
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
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
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HephError('E_IO', `cannot write ${file} (${code}); it is unchanged`, {
      hint: WRITE_HINTS[code] ?? 'check the folder exists and is writable, then try again',
      cause: e,
      details: { file, errno: code },
    });
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
