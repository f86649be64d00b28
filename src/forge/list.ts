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
import type { ForgeHttp } from './http.js';
import { parseJson } from './payload.js';
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

/** True when this page settles the list: the release looked for is in, or all are old. */
export function pageDecides(page: Release[], seen: Release[], opts: ListOptions, prefix: string): boolean {
  if (opts.find !== undefined) {
    const wanted = opts.find;
    const version = versionFromTag(wanted, prefix);
    return seen.some(
      (r) => r.tag === wanted || (version !== null && versionFromTag(r.tag, prefix) === version),
    );
  }
  const floor = opts.stopAtOrBelow === undefined ? null : semver.valid(opts.stopAtOrBelow);
  if (floor === null) return false;
  return page.every((r) => {
    const v = versionFromTag(r.tag, prefix);
    // Drafts and non-semver tags are never selected, so they cannot keep the walk going.
    return r.draft || v === null || semver.lte(v, floor);
  });
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

  async listReleases(opts: ListOptions = {}): Promise<ReleaseList> {
    const startRequests = this.http.requests;
    const startBytes = this.http.bodyBytes;
    const releases: Release[] = [];
    let url: string | null = this.firstPage();
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
        );
        allCached &&= got.notModified;
        const page = this.parsePage(parseJson(got.text, this.kind, url), url, got.headers, pages);
        pages++;
        releases.push(...page.releases);
        url = page.next;
        decided =
          page.releases.length === 0 || pageDecides(page.releases, releases, opts, this.parts.tagPrefix);
      }
    } finally {
      this.parts.cache?.save();
    }
    if (url !== null && !decided) {
      this.parts.logger.warn({ forge: this.kind, pages }, `stopped after ${MAX_PAGES} pages of releases`);
    }
    return {
      // Drafts are kept while paging (they still fill pages) and dropped here: never installable.
      releases: releases.filter((r) => !r.draft),
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
