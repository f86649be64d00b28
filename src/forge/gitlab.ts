// GitLab releases: GET /api/v4/projects/:id/releases newest released first, x-next-page paging,
// no draft or prerelease fields (a prerelease is a semver prerelease tag), assets as links.
import semver from 'semver';
import { z } from 'zod';
import { versionFromTag } from './tag.js';
import type { Headers } from './failures.js';
import { type ClientParts, type Page, PagedClient } from './list.js';
import { isHttpUrl, parseWith, readReleaseItems, releasePage, type SkippedRelease } from './payload.js';
import type { Release } from './types.js';

/** Releases per page: the stop rule settles on the first page almost always; 50 keeps it small. */
export const GITLAB_PER_PAGE = 50;

const httpUrl = z.string().refine(isHttpUrl, { message: 'expected an http(s) URL' });

const linkSchema = z.object({
  name: z.string().min(1),
  url: httpUrl,
  direct_asset_url: httpUrl.nullish(),
});

const releaseSchema = z.object({
  tag_name: z.string(),
  name: z.string().nullish(),
  description: z.string().nullish(),
  released_at: z.string().nullable(),
  upcoming_release: z.boolean().optional(),
  assets: z.object({ links: z.array(linkSchema) }),
  _links: z.object({ self: z.string().optional() }).optional(),
});

/**
 * One page of GET /api/v4/projects/:id/releases as Releases. An upcoming release (released_at in
 * the future) is marked as a draft: GitLab shows it as not yet published, and the pager drops
 * drafts once paging is done. `web` is the project's web URL, for releases without `_links.self`.
 */
export function parseGitlabReleases(
  json: unknown,
  opts: { web: string; tagPrefix: string },
  skipped?: SkippedRelease[],
): Release[] {
  const items = parseWith(releasePage, json, 'gitlab', 'releases');
  return readReleaseItems(
    items,
    (item, i) => {
      const r = parseWith(releaseSchema, item, 'gitlab', `release ${i}`);
      const version = versionFromTag(r.tag_name, opts.tagPrefix);
      return {
        tag: r.tag_name,
        name: r.name || r.tag_name,
        notes: r.description ?? '',
        draft: r.upcoming_release === true,
        prerelease: version !== null && semver.prerelease(version) !== null,
        publishedAt: r.released_at,
        url: r._links?.self ?? `${opts.web}/-/releases/${encodeURIComponent(r.tag_name)}`,
        assets: r.assets.links.map((l) => ({
          name: l.name,
          // direct_asset_url is the stable permalink GitLab recommends; `url` is what the uploader gave.
          url: l.direct_asset_url ?? l.url,
          size: null,
          sha256: null,
        })),
      };
    },
    skipped,
  );
}

/** GitLab addresses a project by numeric id or by its URL-encoded path (group%2Fsub%2Fproj). */
export function gitlabProjectId(repo: string): string {
  return /^\d+$/.test(repo) ? repo : encodeURIComponent(repo);
}

export class GitlabClient extends PagedClient {
  /** Instance URL without a trailing slash or /api/v4. */
  private readonly base: string;

  constructor(parts: ClientParts, base: string) {
    super(parts);
    this.base = base;
  }

  protected firstPage(): string {
    return (
      `${this.base}/api/v4/projects/${gitlabProjectId(this.repo)}/releases` +
      `?order_by=released_at&sort=desc&per_page=${GITLAB_PER_PAGE}&page=1`
    );
  }

  protected parsePage(json: unknown, url: string, headers: Headers): Page {
    const skipped: SkippedRelease[] = [];
    const releases = parseGitlabReleases(
      json,
      { web: `${this.base}/${this.repo}`, tagPrefix: this.parts.tagPrefix },
      skipped,
    );
    // x-next-page is empty on the last page; GitLab omits it past 10,000 rows, then stop.
    const next = (headers['x-next-page'] ?? '').trim();
    if (!/^\d+$/.test(next)) return { releases, skipped, next: null };
    const u = new URL(url);
    u.searchParams.set('page', next);
    return { releases, skipped, next: u.href };
  }
}
