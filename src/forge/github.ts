// GitHub (and GitHub Enterprise) releases: GET /repos/O/R/releases with per_page=100 and Link
// paging, the REST headers, private assets through the asset API with the token kept home.
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
  sha256FromDigest,
} from './payload.js';
import type { Release, ReleaseAsset } from './types.js';

/** GitHub's largest page: the fewest requests when the stop rule needs more than one page. */
export const GITHUB_PER_PAGE = 100;
/** The REST API version heph was written against (GitHub keeps old versions working for 24 months). */
export const GITHUB_API_VERSION = '2022-11-28';

const httpUrl = z.string().refine(isHttpUrl, { message: 'expected an http(s) URL' });

const assetSchema = z.object({
  name: z.string().min(1),
  url: httpUrl,
  browser_download_url: httpUrl,
  size: z.number().int().nonnegative(),
  digest: z.string().nullish(),
});

const releaseSchema = githubStyleRelease(assetSchema);

/**
 * One page of GET /repos/O/R/releases as Releases. With a token, assets are fetched from their
 * API `url` (works for private repositories); without, from `browser_download_url`.
 */
export function parseGithubReleases(
  json: unknown,
  opts: { authenticated: boolean },
  skipped?: SkippedRelease[],
): Release[] {
  const items = parseWith(releasePage, json, 'github', 'releases');
  return readReleaseItems(
    items,
    (item, i) => {
      const r = parseWith(releaseSchema, item, 'github', `release ${i}`);
      const assets: ReleaseAsset[] = r.assets.map((a) => ({
        name: a.name,
        url: opts.authenticated ? a.url : a.browser_download_url,
        size: a.size,
        sha256: sha256FromDigest(a.digest),
      }));
      return {
        tag: r.tag_name,
        name: r.name ?? r.tag_name,
        notes: r.body ?? '',
        draft: r.draft,
        prerelease: r.prerelease,
        publishedAt: r.published_at,
        url: r.html_url,
        assets,
      };
    },
    skipped,
  );
}

export class GithubClient extends PagedClient {
  /** API base without a trailing slash: https://api.github.com or https://HOST/api/v3. */
  private readonly base: string;

  constructor(parts: ClientParts, base: string) {
    super(parts);
    this.base = base;
  }

  protected firstPage(): string {
    const [owner, name] = this.repo.split('/').map(encodeURIComponent);
    return `${this.base}/repos/${owner}/${name}/releases?per_page=${GITHUB_PER_PAGE}`;
  }

  protected override apiHeaders(): Record<string, string> {
    return { accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION };
  }

  protected parsePage(json: unknown, url: string, headers: Headers): Page {
    const skipped: SkippedRelease[] = [];
    const releases = parseGithubReleases(json, { authenticated: this.http.authenticated }, skipped);
    const next = nextLink(headers.link);
    return { releases, skipped, next: next === null ? null : resolveNext(next, url, 'github') };
  }

  /** API asset URLs need Accept: octet-stream, else GitHub answers with the asset's JSON. */
  protected override assetRequest(asset: ReleaseAsset): { url: string; headers: Record<string, string> } {
    const api = asset.url.startsWith(`${this.base}/repos/`) && /\/releases\/assets\/\d+$/.test(asset.url);
    const headers: Record<string, string> = api ? { accept: 'application/octet-stream' } : {};
    return { url: asset.url, headers };
  }
}
