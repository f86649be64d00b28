// Gitea and Forgejo releases: GET /api/v1/repos/O/R/releases with page + limit (newest created
// first), GitHub-like fields; Forgejo marks off-site assets `type: "external"`.
import { z } from 'zod';
import type { Headers } from './failures.js';
import { type ClientParts, type Page, PagedClient } from './list.js';
import {
  githubStyleRelease,
  isHttpUrl,
  nextLink,
  parseWith,
  readReleaseItems,
  releasePage,
  resolveNext,
  type SkippedRelease,
} from './payload.js';
import type { ListOptions, Release, ReleaseList } from './types.js';

/** Gitea's default cap on page size (MAX_RESPONSE_ITEMS); asking for more returns 50 anyway. */
export const GITEA_PAGE_LIMIT = 50;
/**
 * A poll's first page: Gitea and Forgejo send no ETag on releases, so every poll reads its first
 * page whole; with the newest 5 (about 6 KB instead of ~58 KB for 50) the stop rule decides when
 * nothing is new. Anything else (a newer release, `update apply --version`) goes on with full pages.
 */
export const GITEA_POLL_LIMIT = 5;

const httpUrl = z.string().refine(isHttpUrl, { message: 'expected an http(s) URL' });

const assetSchema = z.object({
  name: z.string().min(1),
  size: z.number().int().nonnegative(),
  browser_download_url: httpUrl,
  /** Forgejo: "attachment" or "external" (a link to another site, size unknown). */
  type: z.string().optional(),
});

const releaseSchema = githubStyleRelease(assetSchema);

/** One page of GET /api/v1/repos/O/R/releases as Releases. `forge` names gitea or forgejo in errors. */
export function parseGiteaReleases(
  json: unknown,
  forge: 'gitea' | 'forgejo' = 'gitea',
  skipped?: SkippedRelease[],
): Release[] {
  const items = parseWith(releasePage, json, forge, 'releases');
  return readReleaseItems(
    items,
    (item, i) => {
      const r = parseWith(releaseSchema, item, forge, `release ${i}`);
      return {
        tag: r.tag_name,
        name: r.name || r.tag_name,
        notes: r.body ?? '',
        draft: r.draft,
        prerelease: r.prerelease,
        publishedAt: r.published_at,
        url: r.html_url,
        assets: r.assets.map((a) => ({
          name: a.name,
          url: a.browser_download_url,
          // An external asset's size is whatever the uploader typed (often 0): not a fact to check against.
          size: a.type === 'external' ? null : a.size,
          sha256: null,
        })),
      };
    },
    skipped,
  );
}

export class GiteaClient extends PagedClient {
  /** Instance URL without a trailing slash or /api/v1. */
  private readonly base: string;

  constructor(parts: ClientParts, base: string) {
    super(parts);
    this.base = base;
  }

  /** This listing starts with a small page (a poll), not a full one (a search for a tag). */
  private small = false;

  override async listReleases(opts: ListOptions = {}): Promise<ReleaseList> {
    this.small = opts.find === undefined;
    const list = await super.listReleases(opts);
    // The small page's releases come again at the top of the first full page.
    const seen = new Set<string>();
    return { ...list, releases: list.releases.filter((r) => !seen.has(r.tag) && seen.add(r.tag)) };
  }

  private pageUrl(page: number, limit: number): string {
    const [owner, name] = this.repo.split('/').map(encodeURIComponent);
    return `${this.base}/api/v1/repos/${owner}/${name}/releases?page=${page}&limit=${limit}`;
  }

  protected firstPage(): string {
    return this.pageUrl(1, this.small ? GITEA_POLL_LIMIT : GITEA_PAGE_LIMIT);
  }

  protected parsePage(json: unknown, url: string, headers: Headers): Page {
    const forge = this.kind === 'forgejo' ? 'forgejo' : 'gitea';
    const skipped: SkippedRelease[] = [];
    const releases = parseGiteaReleases(json, forge, skipped);
    if (new URL(url).searchParams.get('limit') === String(GITEA_POLL_LIMIT)) {
      // The small page did not decide: on with full pages from the top, unless it was all there is.
      const more =
        headers.link !== undefined
          ? nextLink(headers.link) !== null
          : releases.length + skipped.length >= GITEA_POLL_LIMIT;
      return { releases, skipped, next: more ? this.pageUrl(1, GITEA_PAGE_LIMIT) : null };
    }
    // Gitea sends a Link header; without one (an old version or a proxy stripping it), a page
    // shorter than the limit is the last. A server capping `limit` lower still sends Link.
    if (headers.link !== undefined) {
      const next = nextLink(headers.link);
      return { releases, skipped, next: next === null ? null : resolveNext(next, url, forge) };
    }
    if (releases.length + skipped.length < GITEA_PAGE_LIMIT) return { releases, skipped, next: null };
    const u = new URL(url);
    u.searchParams.set('page', String(Number(u.searchParams.get('page') ?? '1') + 1));
    return { releases, skipped, next: u.href };
  }
}
