// Reading the files heph keeps for itself (state.json, launcher.json, http-cache.json) and the
// config: size-capped, regular files only, and a corrupt or foreign-shaped state file set aside
// as `<file>.corrupt-<time>` and reported once (audit, log, `heph doctor`), never fatal.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { appendAudit } from '../audit/log.js';
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

export interface CorruptReport {
  auditFile: string;
  /** The daemon's logger; absent or silent (one-shot commands): a warning on stderr instead. */
  logger?: Logger | undefined;
  now?: number | undefined;
}

/**
 * Moves a corrupt `file` aside and reports it once: an audit event `state.corrupt` (with the
 * reason and where the file went), a log line or a stderr warning. Returns the new name, or null
 * when the file could not be moved (it is then read as empty all the same).
 */
export function setAside(file: string, reason: string, report: CorruptReport): string | null {
  const now = report.now ?? Date.now();
  const aside = setAsideName(file, now);
  let moved: string | null = aside;
  try {
    renameSync(file, aside);
  } catch {
    moved = null; // gone already, or a read-only folder: count afresh in memory anyway
  }
  const what = `${file} is unusable (${reason}); ${moved ? `set aside as ${basename(moved)}` : 'it could not be moved aside'} and started afresh`;
  const logger = report.logger && report.logger.level !== 'silent' ? report.logger : undefined;
  appendAudit(
    report.auditFile,
    {
      time: new Date(now).toISOString(),
      event: 'state.corrupt',
      version: null,
      file,
      setAside: moved,
      reason,
    },
    logger,
  );
  if (logger) logger.warn({ file, setAside: moved, reason }, what);
  else process.stderr.write(`warning: ${what}\n`);
  return moved;
}

/**
 * A JSON state file as `parse` accepts it; undefined when the file does not exist. Anything
 * unusable — not a regular file, over `maxBytes`, not JSON, a shape `parse` refuses (it returns
 * a reason string) — is set aside and reported, and read as undefined (count afresh).
 */
export function readJsonState<T>(
  file: string,
  parse: (value: unknown) => T | string,
  report: CorruptReport & { maxBytes?: number },
): T | undefined {
  let text: string | undefined;
  try {
    text = readCappedText(file, report.maxBytes ?? MAX_STATE_FILE_BYTES);
  } catch (e) {
    if (!(e instanceof HephError)) throw e; // EACCES and friends: not corruption, say it as it is
    setAside(file, e.message.replace(`${file} `, ''), report);
    return undefined;
  }
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    setAside(file, 'not valid JSON', report);
    return undefined;
  }
  const parsed = parse(value);
  if (typeof parsed === 'string') {
    setAside(file, parsed, report);
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
