// Streaming an asset to disk: a 0600 file, the size cap enforced while reading (not trusted from
// Content-Length alone), SHA-256 computed on the way, progress reported. Over HTTP or from file://.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { HephError } from '../errors.js';
import { writeFailure } from '../platform/fs.js';
import { showUrl, transportError } from './failures.js';
import { dropBody, type ForgeHttp, readCapped, tooLarge, withDeadline } from './http.js';
import type { DownloadOptions } from './types.js';

export interface Downloaded {
  bytes: number;
  sha256: string;
}

/** Writes `body` to `dest` (0600), hashing and counting; throws past `maxBytes` or on a short body. */
async function streamToFile(
  body: Readable,
  dest: string,
  expected: number | null,
  opts: DownloadOptions,
  forge: string,
  url: string,
): Promise<Downloaded> {
  const hash = createHash('sha256');
  const out = createWriteStream(dest, { mode: 0o600 });
  // A write error (a disk that filled: ENOSPC) can come at any point, also while waiting for
  // 'drain', which then never comes: every wait races it, or the install would stall for good.
  const failed = new Promise<never>((_, reject) => out.on('error', reject));
  failed.catch(() => {}); // observed through the races below
  const orFail = <T>(p: Promise<T>) => Promise.race([p, failed]);
  let bytes = 0;
  try {
    await orFail(new Promise<void>((resolve) => out.once('open', () => resolve())));
    for await (const chunk of body) {
      const b = chunk as Buffer;
      bytes += b.length;
      if (bytes > opts.maxBytes) {
        dropBody(body);
        throw tooLarge(forge, url, opts.maxBytes);
      }
      hash.update(b);
      if (!out.write(b)) await orFail(new Promise<void>((r) => out.once('drain', () => r())));
      opts.onProgress?.(bytes, expected);
    }
    await orFail(
      new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve()))),
    );
  } catch (e) {
    dropBody(body);
    out.destroy();
    rmSync(dest, { force: true });
    if (e instanceof HephError || (e as Error).name === 'AbortError') throw e;
    if ((e as NodeJS.ErrnoException).syscall) throw writeFailure(dest, e, 'nothing was installed');
    throw transportError(forge, url, e);
  }
  if (expected !== null && bytes !== expected) {
    rmSync(dest, { force: true });
    throw new HephError(
      'E_FORGE_UNREACHABLE',
      `${forge}: the download of ${showUrl(url)} stopped at ${bytes} of ${expected} bytes`,
      { hint: 'the connection was cut; try again', details: { forge, bytes, expected } },
    );
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Downloads `url` through ForgeHttp (its redirect and credential rules) into `dest`, within the
 * download deadline however slowly the bytes come (http.ts, DOWNLOAD_DEADLINE_MS).
 */
export async function downloadHttp(
  http: ForgeHttp,
  url: string,
  headers: Record<string, string>,
  dest: string,
  opts: DownloadOptions,
): Promise<Downloaded> {
  return withDeadline(http.forge, url, http.deadlines.download, opts.signal, async (signal) => {
    const res = await http.open(url, headers, signal);
    if (res.length !== null && res.length > opts.maxBytes) {
      dropBody(res.body);
      throw tooLarge(http.forge, res.url, opts.maxBytes);
    }
    const got = await streamToFile(res.body, dest, res.length, opts, http.forge, res.url);
    http.bodyBytes += got.bytes;
    return got;
  });
}

/** A small text asset through ForgeHttp, at most `maxBytes`. */
export async function fetchTextHttp(
  http: ForgeHttp,
  url: string,
  headers: Record<string, string>,
  maxBytes: number,
): Promise<string> {
  return (await http.get(url, headers, maxBytes)).body.toString('utf8');
}

/** The local path and size of a file:// URL; anything unreadable is E_FORGE_NOT_FOUND naming it. */
function localFile(url: string, forge: string): { path: string; size: number } {
  try {
    // fileURLToPath refuses file://otherhost/… with a TypeError; that is "cannot read" too.
    const path = fileURLToPath(url);
    const st = statSync(path);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    return { path, size: st.size };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'invalid file URL';
    throw new HephError('E_FORGE_NOT_FOUND', `${forge}: cannot read ${showUrl(url)} (${code})`, {
      hint: 'check forge.url and that the release folder holds this file (`heph release index DIR`)',
      details: { forge, url: showUrl(url), code },
    });
  }
}

/** Copies a file:// asset into `dest` with the same cap, hash and progress as a download. */
export async function downloadFile(
  url: string,
  dest: string,
  opts: DownloadOptions,
  forge: string,
): Promise<Downloaded> {
  const { path, size } = localFile(url, forge);
  if (size > opts.maxBytes) throw tooLarge(forge, url, opts.maxBytes);
  return streamToFile(createReadStream(path, { signal: opts.signal }), dest, size, opts, forge, url);
}

/** Reads a file:// text asset (the static index, SHA256SUMS) with a size cap. */
export async function readFileText(url: string, maxBytes: number, forge: string): Promise<string> {
  const { path, size } = localFile(url, forge);
  if (size > maxBytes) throw tooLarge(forge, url, maxBytes);
  return (await readCapped(createReadStream(path), maxBytes, forge, url)).toString('utf8');
}
