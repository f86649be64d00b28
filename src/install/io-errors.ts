// What an install tells the user when the filesystem says no: a raw errno error (a disk that
// filled after the preflight, a folder that turned read-only, something planted in the store)
// becomes a typed E_IO naming the file and what to do, never E_INTERNAL with the cause lost.
import { HephError } from '../errors.js';
import { writeFailure } from '../platform/fs.js';

/** Errnos that mean "something that is not heph's is where heph wants to put a folder or link". */
const IN_THE_WAY = new Set(['ENOTDIR', 'EEXIST', 'ENOTEMPTY', 'EISDIR', 'ELOOP']);

function isErrno(e: unknown): e is NodeJS.ErrnoException & { dest?: string } {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && 'syscall' in e;
}

/**
 * `e` as the install reports it: HephErrors and non-filesystem errors unchanged; an errno error
 * as E_IO naming its file (the rename's destination, the path, else `near`, the folder being
 * written) with the errno's hint. `version` is what was being installed; nothing was switched.
 */
export function installIoError(e: unknown, version: string, near: string): unknown {
  if (e instanceof HephError || !isErrno(e)) return e;
  const code = e.code ?? 'error';
  const file = (IN_THE_WAY.has(code) ? (e.dest ?? e.path) : (e.path ?? e.dest)) ?? near;
  if (IN_THE_WAY.has(code)) {
    return new HephError(
      'E_IO',
      `cannot install ${version}: ${file} is in the way (${code}); heph did not make it; nothing changed`,
      {
        hint: `look at it (a symlink or file planted in the store?), remove it, then try again`,
        cause: e,
        details: { file, errno: code },
      },
    );
  }
  return writeFailure(file, e, `${version} was not installed; nothing changed`);
}
