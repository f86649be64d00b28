// A loopback forge for tests: a real node:http server on 127.0.0.1:0 speaking the releases API of
// each kind (paths, fields, pagination, ETag/304, auth headers), with a second origin as the CDN.
//
// Kinds and their URLs (what to write as forge.url is `TestForge.url`):
// - github: GET /repos/O/R/releases (per_page ≤ 100, Link rel="next", ETag); asset API URLs and
//   browser_download_url answer 302 to the CDN origin, so tests can prove the token stays home.
// - gitea / forgejo: GET /api/v1/repos/O/R/releases (page + limit ≤ 50, no ETag unless asked);
//   assets served from the forge itself; forgejo assets carry `type`.
// - gitlab: GET /api/v4/projects/O%2FR/releases (per_page ≤ 100, x-next-page, ETag); drafts do
//   not exist there, so published drafts are left out; direct_asset_url redirects to `url`.
// - static: GET /releases/index.json (ETag) and /releases/TAG/NAME.
// GitHub and Gitea list drafts to every caller (the real ones only to pushers) so clients must
// drop them. `perPage` lowers the server's page-size cap to force pagination with few releases.
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type ForgeKindServed,
  githubRelease,
  giteaRelease,
  gitlabRelease,
  sha256Hex,
  type StoredAsset,
  type StoredRelease,
  staticIndex,
  tokenAccepted,
  UNAUTHORIZED,
  type Urls,
} from './forge-shapes.js';
import { chaosFault, defaultMatch, type Fault, type Klass, type Queued, serveAsset } from './forge-faults.js';
import { seeded } from './random.js';

export type { Fault } from './forge-faults.js';
export type { ForgeKindServed } from './forge-shapes.js';

export interface PublishedAsset {
  name: string;
  file?: string;
  content?: string | Buffer;
  /** Forgejo: mark the asset `type: "external"`. */
  external?: boolean;
}
export interface PublishOptions {
  tag: string;
  prerelease?: boolean;
  draft?: boolean;
  publishedAt?: string;
  notes?: string;
  assets: PublishedAsset[];
  /** Fields left out of this release's JSON (e.g. ["assets"]): a malformed entry in the list. */
  omit?: string[];
}
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  status: number;
  /** Which server answered: the forge's origin or the CDN's. */
  origin: string;
}
export interface TestForge {
  kind: ForgeKindServed;
  repo: string;
  url: string;
  origin: string;
  /** The second loopback origin GitHub asset downloads are redirected to. */
  cdnOrigin: string;
  requests: RecordedRequest[];
  publish(r: PublishOptions): void;
  publishArtifacts(
    version: string,
    dir: string,
    opts?: { tag?: string; prerelease?: boolean; publishedAt?: string },
  ): void;
  unpublish(tag: string): void;
  failNext(fault: Fault, times?: number, match?: 'api' | 'asset'): void;
  setChaos(opts: { seed: number; rate: number } | null): void;
  requireToken(token: string | null): void;
  close(): Promise<void>;
}

/** Page sizes of the real forges: default when the client names none, and the server's cap. */
const PAGING: Record<ForgeKindServed, { param: string; def: number; max: number }> = {
  github: { param: 'per_page', def: 30, max: 100 },
  gitea: { param: 'limit', def: 30, max: 50 },
  forgejo: { param: 'limit', def: 30, max: 50 },
  gitlab: { param: 'per_page', def: 20, max: 100 },
  static: { param: '', def: Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
};
/** How long ago the first release counts as published when the test names no publishedAt. */
const PUBLISH_BACKDATE_MS = 3_600_000;

export async function startForge(opts: {
  kind: ForgeKindServed;
  repo?: string;
  perPage?: number;
  etag?: boolean;
}): Promise<TestForge> {
  const kind = opts.kind;
  const repo = opts.repo ?? 'acme/heph';
  // GitLab projects may sit in subgroups (group/sub/proj): the owner is everything before the name.
  const cut = repo.lastIndexOf('/');
  const owner = repo.slice(0, cut);
  const name = repo.slice(cut + 1);
  const etagOn = opts.etag ?? (kind !== 'gitea' && kind !== 'forgejo');
  const forgejo = kind === 'forgejo';
  const releases: StoredRelease[] = [];
  const queue: Queued[] = [];
  const requests: RecordedRequest[] = [];
  let chaos: { rand: () => number; rate: number } | null = null;
  let token: string | null = null;
  let nextId = 1;
  let lastCreated = 0;
  const urls: Urls = { origin: '', cdn: '', owner, name, project: encodeURIComponent(repo) };

  const take = (klass: Klass, kinds: Fault['kind'][]): Fault | null => {
    const i = queue.findIndex((q) => kinds.includes(q.fault.kind) && (!q.match || q.match === klass));
    if (i < 0) return null;
    const q = queue[i]!;
    if (--q.left <= 0) queue.splice(i, 1);
    return q.fault;
  };

  function handler(origin: 'forge' | 'cdn') {
    return async (req: IncomingMessage, res: ServerResponse) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const rawPath = (req.url ?? '/').split('?')[0]!;
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const record = (status: number) =>
        requests.push({
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers,
          status,
          origin: origin === 'forge' ? urls.origin : urls.cdn,
        });
      const send = (status: number, h: Record<string, string | number>, body?: string | Buffer) => {
        record(status);
        res.writeHead(status, h);
        res.end(body);
      };
      const route = origin === 'cdn' ? cdnRoute(rawPath) : forgeRoute(rawPath, req);
      const klass: Klass = route?.klass ?? 'api';
      let pending = chaosFault(klass, chaos);
      const stage = (kinds: Fault['kind'][]): Fault | null => {
        if (pending && kinds.includes(pending.kind)) {
          const f = pending;
          pending = null;
          return f;
        }
        return take(klass, kinds);
      };

      const slow = stage(['slow']);
      if (slow?.kind === 'slow') await new Promise((r) => setTimeout(r, slow.ms));
      if (res.destroyed) return;
      const status = stage(['status']);
      if (status?.kind === 'status') {
        send(status.status, { 'content-type': 'application/json', ...status.headers }, status.body ?? '{}');
        return;
      }
      if (origin === 'forge' && token !== null && !tokenAccepted(kind, req.headers, token)) {
        send(401, { 'content-type': 'application/json' }, UNAUTHORIZED[kind]);
        return;
      }
      if (!route) {
        send(404, { 'content-type': 'application/json' }, '{"message":"Not Found"}');
        return;
      }
      if (route.redirect) {
        send(302, { location: route.redirect, 'content-length': 0 });
        return;
      }
      if (route.asset) {
        serveAsset(route.asset.data, stage(['truncate', 'tamper']), record, res);
        return;
      }
      const list = route.list!(u);
      if (stage(['garbage'])) {
        send(200, { 'content-type': 'application/json', ...list.headers }, '{"releases": [ {tag_name: oops');
        return;
      }
      const body = JSON.stringify(list.body);
      const etag = `W/"${sha256Hex(Buffer.from(body)).slice(0, 32)}"`;
      const h: Record<string, string | number> = { 'content-type': 'application/json', ...list.headers };
      if (etagOn) {
        h.etag = etag;
        if (req.headers['if-none-match'] === etag) {
          send(304, h);
          return;
        }
      }
      send(200, { ...h, 'content-length': Buffer.byteLength(body) }, body);
    };
  }

  interface Route {
    klass: Klass;
    redirect?: string;
    asset?: StoredAsset;
    list?: (u: URL) => { body: unknown; headers: Record<string, string> };
  }

  const findAsset = (tag: string, file: string) =>
    releases.find((r) => r.tag === tag)?.assets.find((a) => a.name === file);
  const byId = (id: number) => releases.flatMap((r) => r.assets).find((a) => a.id === id);

  function cdnRoute(path: string): Route | null {
    const m = /^\/assets\/(\d+)\/[^/]+$/.exec(path);
    const asset = m ? byId(Number(m[1])) : undefined;
    return asset ? { klass: 'asset', asset } : null;
  }

  function forgeRoute(path: string, req: IncomingMessage): Route | null {
    const web = `/${owner}/${name}`;
    // Path segments after the project's web path: ['releases', 'download', TAG, NAME], …
    const rest = path.startsWith(`${web}/`)
      ? path
          .slice(web.length + 1)
          .split('/')
          .map(decodeURIComponent)
      : [];
    if (kind === 'github') {
      if (path === `/repos/${owner}/${name}/releases`) return { klass: 'api', list: pageOf };
      const api = /^\/repos\/[^/]+\/[^/]+\/releases\/assets\/(\d+)$/.exec(path);
      if (api) {
        const asset = byId(Number(api[1]));
        if (!asset) return null;
        if (req.headers.accept === 'application/octet-stream') {
          return { klass: 'asset', redirect: `${urls.cdn}/assets/${asset.id}/${asset.name}?sig=test` };
        }
        const rel = releases.find((r) => r.assets.includes(asset))!;
        const shape = (githubRelease(rel, urls).assets as { id: number }[]).find((a) => a.id === asset.id);
        return { klass: 'api', list: () => ({ body: shape, headers: {} }) };
      }
      if (rest[0] === 'releases' && rest[1] === 'download') {
        const asset = findAsset(rest[2] ?? '', rest[3] ?? '');
        return asset ? { klass: 'asset', redirect: `${urls.cdn}/assets/${asset.id}/${asset.name}` } : null;
      }
      return null;
    }
    if (kind === 'gitea' || kind === 'forgejo') {
      if (path === `/api/v1/repos/${owner}/${name}/releases`) return { klass: 'api', list: pageOf };
      if (rest[0] === 'releases' && rest[1] === 'download') {
        const asset = findAsset(rest[2] ?? '', rest[3] ?? '');
        return asset ? { klass: 'asset', asset } : null;
      }
      return null;
    }
    if (kind === 'gitlab') {
      if (path === `/api/v4/projects/${urls.project}/releases`) return { klass: 'api', list: pageOf };
      // -/releases/TAG/downloads/NAME redirects to -/package_files/ID/download, as GitLab does.
      if (rest[0] === '-' && rest[1] === 'releases' && rest[3] === 'downloads') {
        const asset = findAsset(rest[2] ?? '', rest[4] ?? '');
        return asset
          ? { klass: 'asset', redirect: `${urls.origin}${web}/-/package_files/${asset.id}/download` }
          : null;
      }
      const asset = rest[1] === 'package_files' && rest[3] === 'download' ? byId(Number(rest[2])) : undefined;
      return asset ? { klass: 'asset', asset } : null;
    }
    const seg = path.split('/').map(decodeURIComponent);
    if (path === '/releases/index.json') return { klass: 'api', list: pageOf };
    if (seg[1] === 'releases' && seg.length === 4) {
      const asset = findAsset(seg[2] ?? '', seg[3] ?? '');
      return asset ? { klass: 'asset', asset } : null;
    }
    return null;
  }

  /** One page of the list, newest first, with the kind's pagination headers. */
  function pageOf(u: URL): { body: unknown; headers: Record<string, string> } {
    const now = Date.now();
    const visible = releases.filter((r) => !(r.draft && (kind === 'gitlab' || kind === 'static')));
    const sorted =
      kind === 'gitlab'
        ? [...visible].sort((a, b) => Date.parse(b.publishedAt) - Date.parse(a.publishedAt))
        : [...visible].sort((a, b) => b.id - a.id);
    /** The release's JSON without the fields the test asked to leave out. */
    const shaped = (r: StoredRelease, json: Record<string, unknown>) => {
      for (const f of r.omit ?? []) delete json[f];
      return json;
    };
    if (kind === 'static') {
      const index = staticIndex(sorted) as { releases: Record<string, unknown>[] };
      return { body: { releases: index.releases.map((j, i) => shaped(sorted[i]!, j)) }, headers: {} };
    }
    const paging = PAGING[kind];
    const cap = Math.min(paging.max, opts.perPage ?? paging.max);
    const asked = Number(u.searchParams.get(paging.param));
    const size = Math.min(cap, Number.isInteger(asked) && asked > 0 ? asked : paging.def);
    const page = Math.max(1, Number(u.searchParams.get('page')) || 1);
    const slice = sorted.slice((page - 1) * size, page * size);
    const last = Math.max(1, Math.ceil(sorted.length / size));
    const link = (p: number) => {
      const q = new URLSearchParams(u.searchParams);
      q.set(paging.param, String(size));
      q.set('page', String(p));
      return `<${urls.origin}${u.pathname}?${q}>`;
    };
    const links = [page < last ? `${link(page + 1)}; rel="next"` : '', `${link(last)}; rel="last"`];
    const headers: Record<string, string> = { link: links.filter(Boolean).join(', ') };
    if (kind === 'github') return { body: slice.map((r) => shaped(r, githubRelease(r, urls))), headers };
    if (kind === 'gitlab') {
      Object.assign(headers, {
        'x-page': String(page),
        'x-per-page': String(size),
        'x-next-page': page < last ? String(page + 1) : '',
        'x-prev-page': page > 1 ? String(page - 1) : '',
        'x-total': String(sorted.length),
        'x-total-pages': String(last),
      });
      return { body: slice.map((r) => shaped(r, gitlabRelease(r, urls, now))), headers };
    }
    headers['x-total-count'] = String(sorted.length);
    return { body: slice.map((r) => shaped(r, giteaRelease(r, urls, forgejo))), headers };
  }

  const forgeServer = createServer(handler('forge'));
  const cdnServer = createServer(handler('cdn'));
  const listen = async (s: Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  urls.origin = await listen(forgeServer);
  urls.cdn = await listen(cdnServer);

  const publish = (p: PublishOptions) => {
    const existing = releases.findIndex((r) => r.tag === p.tag);
    if (existing >= 0) releases.splice(existing, 1); // republishing a tag replaces it
    // An hour back, one second apart in publish order: the order is deterministic and no release
    // looks published in the future (which selection reads as clock skew, "too-young").
    lastCreated = lastCreated === 0 ? Date.now() - PUBLISH_BACKDATE_MS : lastCreated + 1000;
    const createdAt = new Date(lastCreated).toISOString();
    releases.push({
      id: nextId++,
      tag: p.tag,
      prerelease: p.prerelease ?? false,
      draft: p.draft ?? false,
      createdAt,
      publishedAt: p.publishedAt ?? createdAt,
      notes: p.notes ?? `Release ${p.tag}`,
      omit: p.omit,
      assets: p.assets.map((a) => ({
        id: nextId++,
        name: a.name,
        external: a.external,
        data: a.file ? readFileSync(a.file) : Buffer.from(a.content ?? ''),
      })),
    });
  };

  const url = kind === 'static' ? `${urls.origin}/releases/index.json` : urls.origin;

  return {
    kind,
    repo,
    url,
    origin: urls.origin,
    cdnOrigin: urls.cdn,
    requests,
    publish,
    publishArtifacts(version, dir, o = {}) {
      const files = [`heph-${version}.tgz`, 'SHA256SUMS', 'SHA256SUMS.minisig'].filter((f) =>
        existsSync(join(dir, f)),
      );
      publish({
        tag: o.tag ?? `v${version}`,
        prerelease: o.prerelease,
        publishedAt: o.publishedAt,
        assets: files.map((f) => ({ name: f, file: join(dir, f) })),
      });
    },
    unpublish(tag) {
      const i = releases.findIndex((r) => r.tag === tag);
      if (i >= 0) releases.splice(i, 1);
    },
    failNext(fault, times = 1, match) {
      queue.push({ fault, left: times, match: match ?? defaultMatch(fault) });
    },
    setChaos(o) {
      chaos = o ? { rand: seeded(o.seed), rate: o.rate } : null;
    },
    requireToken(t) {
      token = t;
    },
    close: async () => {
      for (const s of [forgeServer, cdnServer]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
