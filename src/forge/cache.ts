// The conditional-request cache: for each API URL, the last ETag and the answer it named, so a
// 304 is served from here. Keyed by URL only (never by token); a JSON file in the state folder,
// written atomically and bounded so it cannot grow without limit.
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HephError } from '../errors.js';
import { writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';
import { corruptReporter } from '../audit/corrupt.js';
import { readJsonState } from '../platform/state-file.js';
import { showUrl } from './failures.js';
import type { ForgeHttp } from './http.js';

export const HTTP_CACHE_FILE = 'http-cache.json';
const CACHE_VERSION = 1;
/** Entries kept: a poll walks a few pages; 64 covers several forges or repos without bloat. */
export const MAX_CACHE_ENTRIES = 64;
/** Bytes of cached bodies kept in total; the oldest entries go first past this. */
export const MAX_CACHE_BYTES = 8 * 1024 * 1024;

export interface CacheEntry {
  etag: string;
  body: string;
  /** Response headers the pager needs again on a 304 (link, x-next-page, x-total-pages). */
  headers: Record<string, string>;
  /** Epoch ms when stored or last confirmed by a 304 (for eviction). */
  at: number;
}

/** The file holds at most MAX_CACHE_BYTES of bodies; JSON escaping can double them. */
const MAX_CACHE_FILE_BYTES = 4 * MAX_CACHE_BYTES;

const cacheFileSchema = z.object({
  v: z.literal(CACHE_VERSION),
  entries: z.record(
    z.string(),
    z.object({
      etag: z.string(),
      body: z.string(),
      headers: z.record(z.string(), z.string()).default({}),
      at: z.number().finite(),
    }),
  ),
});

function parseCacheFile(value: unknown): Record<string, CacheEntry> | string {
  const r = cacheFileSchema.safeParse(value);
  if (r.success) return r.data.entries;
  const issue = r.error.issues[0]!;
  return `${issue.path.join('.') || 'the document'}: ${issue.message}`;
}

export class HttpCache {
  private entries: Record<string, CacheEntry>;
  private dirty = false;
  readonly file: string;

  /**
   * A torn or foreign file only costs one full fetch: it is set aside and reported (to the audit
   * log beside it unless `auditFile` says otherwise), and replaced on the next save.
   */
  constructor(file: string, report: { auditFile?: string; logger?: Logger } = {}) {
    this.file = file;
    this.entries =
      readJsonState(file, parseCacheFile, {
        maxBytes: MAX_CACHE_FILE_BYTES,
        onSetAside: corruptReporter(report.auditFile ?? join(dirname(file), 'audit.jsonl'), report.logger),
      }) ?? {};
  }

  static forPaths(paths: Paths, logger?: Logger): HttpCache {
    return new HttpCache(join(paths.state, HTTP_CACHE_FILE), { auditFile: paths.auditFile, logger });
  }

  get(url: string): CacheEntry | undefined {
    return this.entries[url];
  }

  put(url: string, entry: CacheEntry): void {
    this.entries[url] = entry;
    this.dirty = true;
  }

  touch(url: string, at: number): void {
    const e = this.entries[url];
    if (e) {
      e.at = at;
      this.dirty = true;
    }
  }

  /** Writes the file when something changed, newest entries kept within the bounds. */
  save(): void {
    if (!this.dirty) return;
    const sorted = Object.entries(this.entries).sort((a, b) => b[1].at - a[1].at);
    const kept: Record<string, CacheEntry> = {};
    let bytes = 0;
    for (const [url, e] of sorted.slice(0, MAX_CACHE_ENTRIES)) {
      bytes += e.body.length + url.length;
      if (bytes > MAX_CACHE_BYTES) break;
      kept[url] = e;
    }
    this.entries = kept;
    try {
      writeFileAtomic(this.file, JSON.stringify({ v: CACHE_VERSION, entries: kept }), 0o600);
      this.dirty = false;
    } catch {
      // A read-only state folder makes heph poll without conditional requests; not an error.
    }
  }
}

/** Response headers a pager reads again when a page is served from the cache. */
const KEPT_HEADERS = ['link', 'x-next-page', 'x-total-pages', 'x-total-count'];

export interface CachedAnswer {
  text: string;
  headers: Record<string, string | undefined>;
  /** True when the forge answered 304 and the cached body was used. */
  notModified: boolean;
}

/**
 * A GET that asks with If-None-Match when the cache knows the URL, serves the cached body on 304
 * (zero body bytes), and remembers the new ETag and body on 200. `cache` null: plain GET.
 */
export async function conditionalGet(
  http: ForgeHttp,
  cache: HttpCache | null,
  url: string,
  headers: Record<string, string>,
  now: number,
  signal?: AbortSignal,
): Promise<CachedAnswer> {
  const entry = cache?.get(url);
  const res = await http.get(
    url,
    entry ? { ...headers, 'if-none-match': entry.etag } : headers,
    undefined,
    signal,
  );
  if (res.status === 304) {
    if (!entry || !cache) {
      throw new HephError(
        'E_FORGE_PAYLOAD',
        `${http.forge} answered 304 for ${showUrl(url)} without being asked`,
        {
          hint: 'a proxy between heph and the forge may be caching badly; try again later',
        },
      );
    }
    cache.touch(url, now);
    return { text: entry.body, headers: entry.headers, notModified: true };
  }
  const text = res.body.toString('utf8');
  const etag = res.headers.etag;
  if (cache && etag) {
    const kept: Record<string, string> = {};
    for (const k of KEPT_HEADERS) if (res.headers[k] !== undefined) kept[k] = res.headers[k]!;
    cache.put(url, { etag, body: text, headers: kept, at: now });
  }
  return { text, headers: res.headers, notModified: false };
}
