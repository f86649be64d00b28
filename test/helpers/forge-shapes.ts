// What the loopback test forge answers, per kind, with the real forges' field names (GitHub REST,
// Gitea/Forgejo API v1, GitLab API v4, heph's static index): pure functions from a stored release.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type ForgeKindServed = 'github' | 'gitea' | 'forgejo' | 'gitlab' | 'static';

export interface StoredAsset {
  id: number;
  name: string;
  data: Buffer;
  /** Forgejo only: an off-site asset (`type: "external"`), still served here for the test. */
  external?: boolean;
}

export interface StoredRelease {
  id: number;
  tag: string;
  prerelease: boolean;
  draft: boolean;
  /** ISO time the forge calls published_at / released_at. */
  publishedAt: string;
  createdAt: string;
  notes: string;
  assets: StoredAsset[];
  /** Fields left out of this release's JSON: a malformed entry, as a forge bug or an old version sends. */
  omit?: string[];
}

/** Where each URL lives, so the shapes and the router agree on paths. */
export interface Urls {
  origin: string;
  cdn: string;
  owner: string;
  name: string;
  /** GitLab's URL-encoded project path (`group%2Fproj`). */
  project: string;
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const user = { id: 1, login: 'releaser', type: 'User' };

export function githubRelease(r: StoredRelease, u: Urls): Record<string, unknown> {
  const repoApi = `${u.origin}/repos/${u.owner}/${u.name}`;
  return {
    url: `${repoApi}/releases/${r.id}`,
    html_url: `${u.origin}/${u.owner}/${u.name}/releases/tag/${r.tag}`,
    assets_url: `${repoApi}/releases/${r.id}/assets`,
    id: r.id,
    node_id: `RE_${r.id}`,
    author: user,
    tag_name: r.tag,
    target_commitish: 'main',
    name: r.tag,
    draft: r.draft,
    immutable: false,
    prerelease: r.prerelease,
    created_at: r.createdAt,
    published_at: r.draft ? null : r.publishedAt,
    body: r.notes,
    assets: r.assets.map((a) => ({
      url: `${repoApi}/releases/assets/${a.id}`,
      browser_download_url: `${u.origin}/${u.owner}/${u.name}/releases/download/${r.tag}/${a.name}`,
      id: a.id,
      name: a.name,
      label: '',
      uploader: user,
      content_type: 'application/octet-stream',
      state: 'uploaded',
      size: a.data.length,
      digest: `sha256:${sha256Hex(a.data)}`,
      download_count: 0,
      created_at: r.createdAt,
      updated_at: r.createdAt,
    })),
  };
}

export function giteaRelease(r: StoredRelease, u: Urls, forgejo: boolean): Record<string, unknown> {
  const repoApi = `${u.origin}/api/v1/repos/${u.owner}/${u.name}`;
  return {
    id: r.id,
    tag_name: r.tag,
    target_commitish: 'main',
    name: r.tag,
    body: r.notes,
    url: `${repoApi}/releases/${r.id}`,
    html_url: `${u.origin}/${u.owner}/${u.name}/releases/tag/${r.tag}`,
    tarball_url: `${u.origin}/${u.owner}/${u.name}/archive/${r.tag}.tar.gz`,
    zipball_url: `${u.origin}/${u.owner}/${u.name}/archive/${r.tag}.zip`,
    upload_url: `${repoApi}/releases/${r.id}/assets`,
    draft: r.draft,
    prerelease: r.prerelease,
    created_at: r.createdAt,
    published_at: r.publishedAt,
    author: user,
    assets: r.assets.map((a) => ({
      id: a.id,
      name: a.name,
      size: a.data.length,
      download_count: 0,
      created_at: r.createdAt,
      uuid: `00000000-0000-4000-8000-${String(a.id).padStart(12, '0')}`,
      browser_download_url: `${u.origin}/${u.owner}/${u.name}/releases/download/${r.tag}/${a.name}`,
      ...(forgejo ? { type: a.external ? 'external' : 'attachment' } : {}),
    })),
  };
}

export function gitlabRelease(r: StoredRelease, u: Urls, now: number): Record<string, unknown> {
  const web = `${u.origin}/${u.owner}/${u.name}`;
  return {
    name: r.tag,
    tag_name: r.tag,
    description: r.notes,
    created_at: r.createdAt,
    released_at: r.publishedAt,
    upcoming_release: Date.parse(r.publishedAt) > now,
    author: { id: 1, username: 'releaser' },
    commit: { id: 'a'.repeat(40), short_id: 'aaaaaaaa', title: r.tag },
    commit_path: `/${u.owner}/${u.name}/-/commit/${'a'.repeat(40)}`,
    tag_path: `/${u.owner}/${u.name}/-/tags/${r.tag}`,
    assets: {
      count: r.assets.length + 1,
      sources: [{ format: 'tar.gz', url: `${web}/-/archive/${r.tag}/${u.name}-${r.tag}.tar.gz` }],
      links: r.assets.map((a) => ({
        id: a.id,
        name: a.name,
        url: `${web}/-/package_files/${a.id}/download`,
        direct_asset_url: `${web}/-/releases/${r.tag}/downloads/${a.name}`,
        link_type: 'package',
      })),
    },
    evidences: [],
    _links: { self: `${web}/-/releases/${r.tag}` },
  };
}

/** heph's own static index; asset URLs relative to the index, as `heph release index` writes them. */
export function staticIndex(releases: StoredRelease[]): Record<string, unknown> {
  return {
    releases: releases.map((r) => ({
      tag: r.tag,
      prerelease: r.prerelease,
      publishedAt: r.publishedAt,
      notes: r.notes,
      assets: r.assets.map((a) => ({ name: a.name, url: `${r.tag}/${a.name}`, size: a.data.length })),
    })),
  };
}

/** Whether a request carries `token` the way this kind expects it. */
export function tokenAccepted(kind: ForgeKindServed, h: IncomingMessage['headers'], token: string): boolean {
  const auth = h.authorization;
  if (kind === 'gitlab') return h['private-token'] === token || auth === `Bearer ${token}`;
  if (kind === 'static') return auth === `Bearer ${token}`;
  return auth === `Bearer ${token}` || auth === `token ${token}`;
}

/** What each kind answers without the right credentials. */
export const UNAUTHORIZED: Record<ForgeKindServed, string> = {
  github: '{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}',
  gitea: '{"message":"token is required","url":"https://gitea.example/api/swagger"}',
  forgejo: '{"message":"token is required","url":"https://forgejo.example/api/swagger"}',
  gitlab: '{"message":"401 Unauthorized"}',
  static: 'Unauthorized',
};
