// What every HTTP forge client shares: walking the release pages (conditional GETs through the
// ETag cache, the stop rule, a page cap) and downloads with the client's own auth rules.
import semver from 'semver';
import type { ForgeKind } from '../config/schema.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/deps.js';
import { versionFromTag } from './tag.js';
import { conditionalGet, type HttpCache } from './cache.js';
import { downloadHttp, fetchTextHttp } from './download.js';
import type { Headers } from './failures.js';
import { type ForgeHttp, withDeadline } from './http.js';
import { parseJson, type SkippedRelease } from './payload.js';
import type {
  DownloadOptions,
  ForgeClient,
  ListOptions,
  Release,
  ReleaseAsset,
  ReleaseList,
} from './types.js';

/**
 * Pages walked per check at most. With the stop rule one page (100 on GitHub) nearly always
 * decides; 10 pages is 500–1,000 releases back, enough for `update apply --version` of an old
 * release, and it bounds what a forge that paginates forever can cost.
 */
export const MAX_PAGES = 10;

export interface Page {
  releases: Release[];
  /** Entries of this page that could not be read, left out (readReleaseItems). */
  skipped: SkippedRelease[];
  /** The next page's URL, or null on the last page. */
  next: string | null;
}

export interface ClientParts {
  kind: ForgeKind;
  repo: string;
  http: ForgeHttp;
  cache: HttpCache | null;
  clock: Clock;
  logger: Logger;
  tagPrefix: string;
}

/**
 * True when the releases seen so far settle the list: the release looked for (`find`) is among
 * them, or the running version's own release is.
 *
 * Why the running release: every forge lists newest first by time (GitHub and Gitea by creation,
 * GitLab by released_at, which heph asks for), so every release after it in the list was made
 * before it. A version newer than the running one is found on the way down to it, however many
 * patch releases of an older line were published since and fill the first pages. (The rule it
 * replaces, "a whole page at or below the running version", stopped on such a page and missed
 * the newest release behind it.) What it cannot see: a release created before the running one,
 * numbered above it and published after it (a GitHub draft made long ago), when it sits past
 * the page of the running release. A running version with no release on the forge (a dev
 * build, a deleted release) walks the pages up to MAX_PAGES.
 */
export function pageDecides(seen: Release[], opts: ListOptions, prefix: string): boolean {
  const wanted = opts.find ?? opts.running;
  if (wanted === undefined) return false;
  const version = versionFromTag(wanted, prefix) ?? semver.valid(wanted);
  return seen.some((r) => {
    if (r.draft && opts.find === undefined) return false;
    if (r.tag === wanted) return true;
    const v = versionFromTag(r.tag, prefix);
    return (
      version !== null && v !== null && (opts.find !== undefined ? v === version : semver.eq(v, version))
    );
  });
}

/** One warning per release left out of the list, naming it (the daemon's log; the CLI prints them too). */
export function warnSkipped(logger: Logger, forge: string, skipped: readonly SkippedRelease[]): void {
  for (const s of skipped) {
    logger.warn(
      { forge, tag: s.tag, index: s.index, problem: s.problem },
      `skipped a malformed release: ${s.problem}`,
    );
  }
}

export abstract class PagedClient implements ForgeClient {
  readonly kind: ForgeKind;
  readonly repo: string;
  protected readonly http: ForgeHttp;
  protected readonly parts: ClientParts;

  constructor(parts: ClientParts) {
    this.parts = parts;
    this.kind = parts.kind;
    this.repo = parts.repo;
    this.http = parts.http;
  }

  /** The first page's URL (page size and order in the query). */
  protected abstract firstPage(): string;
  /** One page's JSON as releases (drafts included, marked) and where the next page is. */
  protected abstract parsePage(json: unknown, url: string, headers: Headers, index: number): Page;
  /** Headers for API calls besides credentials (GitHub's Accept and version). */
  protected apiHeaders(): Record<string, string> {
    return {};
  }
  /** Where and how to GET an asset's bytes. */
  protected assetRequest(asset: ReleaseAsset): { url: string; headers: Record<string, string> } {
    return { url: asset.url, headers: {} };
  }

  /** The walk over the pages, all of it within one check deadline (http.ts, CHECK_DEADLINE_MS). */
  async listReleases(opts: ListOptions = {}): Promise<ReleaseList> {
    const first = this.firstPage();
    return withDeadline(this.kind, first, this.http.deadlines.check, undefined, (signal) =>
      this.walk(first, opts, signal),
    );
  }

  private async walk(first: string, opts: ListOptions, signal: AbortSignal): Promise<ReleaseList> {
    const startRequests = this.http.requests;
    const startBytes = this.http.bodyBytes;
    const releases: Release[] = [];
    const skipped: SkippedRelease[] = [];
    let url: string | null = first;
    let allCached = true;
    let pages = 0;
    let decided = false;
    try {
      while (url !== null && pages < MAX_PAGES && !decided) {
        const got = await conditionalGet(
          this.http,
          this.parts.cache,
          url,
          this.apiHeaders(),
          this.parts.clock.now(),
          signal,
        );
        allCached &&= got.notModified;
        const page = this.parsePage(parseJson(got.text, this.kind, url), url, got.headers, pages);
        pages++;
        releases.push(...page.releases);
        skipped.push(...page.skipped);
        url = page.next;
        decided =
          page.releases.length + page.skipped.length === 0 ||
          pageDecides(releases, opts, this.parts.tagPrefix);
      }
    } finally {
      this.parts.cache?.save();
    }
    if (url !== null && !decided) {
      this.parts.logger.warn({ forge: this.kind, pages }, `stopped after ${MAX_PAGES} pages of releases`);
    }
    warnSkipped(this.parts.logger, this.kind, skipped);
    return {
      // Drafts are kept while paging (they still fill pages) and dropped here: never installable.
      releases: releases.filter((r) => !r.draft),
      skipped,
      fromCache: allCached && pages > 0,
      requests: this.http.requests - startRequests,
      bodyBytes: this.http.bodyBytes - startBytes,
    };
  }

  async downloadAsset(asset: ReleaseAsset, dest: string, opts: DownloadOptions) {
    const req = this.assetRequest(asset);
    return downloadHttp(this.http, req.url, req.headers, dest, opts);
  }

  async fetchAssetText(asset: ReleaseAsset, maxBytes: number): Promise<string> {
    const req = this.assetRequest(asset);
    return fetchTextHttp(this.http, req.url, req.headers, maxBytes);
  }
}
