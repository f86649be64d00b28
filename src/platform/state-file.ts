// Reading the files heph keeps for itself (state.json, launcher.json, http-cache.json) and the
// config: size-capped, regular files only, and a corrupt or foreign-shaped state file set aside
// as `<file>.corrupt-<time>` and handed to a reporter (src/audit/corrupt.ts), never fatal.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { HephError } from '../errors.js';

/** state.json and launcher.json hold a few hundred bytes; anything near this is not ours. */
export const MAX_STATE_FILE_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 64 * 1024;
/** Marks a set-aside file: `<file>.corrupt-<UTC time>`. */
export const SET_ASIDE_MARK = '.corrupt-';

const KIND_NAMES: Array<[(st: ReturnType<typeof fstatSync>) => boolean, string]> = [
  [(st) => st.isFIFO(), 'a FIFO'],
  [(st) => st.isCharacterDevice(), 'a character device'],
  [(st) => st.isBlockDevice(), 'a block device'],
  [(st) => st.isSocket(), 'a socket'],
  [(st) => st.isDirectory(), 'a folder'],
];

/**
 * The text of `file` (following symlinks), or undefined when it does not exist. Refuses what is
 * not a regular file (a FIFO would block the reader, /dev/zero would never end) and a file over
 * `maxBytes`, as E_IO naming the file; other errors (EACCES) propagate as they are.
 */
export function readCappedText(file: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not hang; it is refused just below.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = KIND_NAMES.find(([test]) => test(st))?.[1] ?? 'not a regular file';
      throw new HephError('E_IO', `${file} is ${kind}, not a regular file`, {
        hint: 'heph reads only regular files here: replace it with one',
        details: { file, reason: 'not-regular' },
      });
    }
    if (st.size > maxBytes) throw tooBig(file, maxBytes);
    // Read in chunks up to one byte past the cap: a file that grows while read is caught too.
    const chunks: Buffer[] = [];
    let got = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, maxBytes + 1 - got));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      got += n;
      if (got > maxBytes) throw tooBig(file, maxBytes);
    }
    return Buffer.concat(chunks, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function tooBig(file: string, maxBytes: number): HephError {
  return new HephError('E_IO', `${file} is larger than ${maxBytes} bytes`, {
    hint: 'heph never writes a file this large here: look at what it holds, then replace it',
    details: { file, reason: 'too-large' },
  });
}

/** Where a corrupt file goes: beside it, named with the time (UTC, sortable, no colons). */
export function setAsideName(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '');
  return `${file}${SET_ASIDE_MARK}${stamp}`;
}

/** A file that was set aside: where it was, where it went (null: it could not be moved), why. */
export interface SetAside {
  file: string;
  setAside: string | null;
  reason: string;
  /** Epoch ms. */
  at: number;
}

export interface ReadJsonOptions {
  maxBytes?: number | undefined;
  now?: number | undefined;
  /** Reports a set-aside file once (src/audit/corrupt.ts: audit, log or stderr). */
  onSetAside(info: SetAside): void;
}

/**
 * Moves a corrupt `file` aside as `<file>.corrupt-<time>` and reports it once through
 * `onSetAside`. A file that cannot be moved (gone already, a read-only folder) is reported with
 * `setAside: null` and read as empty all the same.
 */
export function setAside(file: string, reason: string, opts: ReadJsonOptions): void {
  const at = opts.now ?? Date.now();
  const aside = setAsideName(file, at);
  let moved: string | null = aside;
  try {
    renameSync(file, aside);
  } catch {
    moved = null;
  }
  opts.onSetAside({ file, setAside: moved, reason, at });
}

/**
 * A JSON state file as `parse` accepts it; undefined when the file does not exist. Anything
 * unusable — not a regular file, over `maxBytes`, not JSON, a shape `parse` refuses (it returns
 * a reason string) — is set aside and reported, and read as undefined (count afresh).
 */
export function readJsonState<T>(
  file: string,
  parse: (value: unknown) => T | string,
  opts: ReadJsonOptions,
): T | undefined {
  let text: string | undefined;
  try {
    text = readCappedText(file, opts.maxBytes ?? MAX_STATE_FILE_BYTES);
  } catch (e) {
    if (!(e instanceof HephError)) throw e; // EACCES and friends: not corruption, say it as it is
    setAside(file, e.message.replace(`${file} `, ''), opts);
    return undefined;
  }
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    setAside(file, 'not valid JSON', opts);
    return undefined;
  }
  const parsed = parse(value);
  if (typeof parsed === 'string') {
    setAside(file, parsed, opts);
    return undefined;
  }
  return parsed;
}

/** Set-aside files in `dir` (for `heph doctor`), oldest first. */
export function listSetAside(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => n.includes(SET_ASIDE_MARK))
      .sort()
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}
