// The forge clients in-process against the loopback forge: paging and its stop rule, the ETag
// cache, downloads (CDN redirect without credentials, digest, truncation, tampering, size cap).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { HephError } from '../../src/errors.js';
import { GITEA_PAGE_LIMIT, GITEA_POLL_LIMIT } from '../../src/forge/gitea.js';
import { createForgeClient } from '../../src/forge/index.js';
import { MAX_PAGES } from '../../src/forge/list.js';
import type { ForgeClient } from '../../src/forge/types.js';
import { checkForUpdate } from '../../src/update/check.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { type ForgeKindServed, startForge, type TestForge } from '../helpers/forge-server.js';
import { giteaRelease, sha256Hex, type Urls } from '../helpers/forge-shapes.js';

let forge: TestForge | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'heph-forge-client-'));
});
afterEach(async () => {
  await forge?.close();
  forge = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function depsFor(env: Record<string, string> = {}): Deps {
  const full = { HEPH_HOME: dir, HOME: dir, ...env };
  return createDeps({ env: full, paths: resolvePaths(full) });
}

function clientFor(f: TestForge, env: Record<string, string> = {}): ForgeClient {
  const config = configSchema.parse({ forge: { kind: f.kind, url: f.url, repo: f.repo } });
  return createForgeClient(config, depsFor(env));
}

function publishVersions(f: TestForge, versions: string[]): void {
  for (const v of versions) {
    f.publish({ tag: `v${v}`, assets: [{ name: `heph-${v}.tgz`, content: `the bytes of ${v}` }] });
  }
}

const listPath = (f: TestForge) =>
  f.requests.filter((r) => r.origin === f.origin && /releases(\?|\/index|$)/.test(r.path));

describe.each(['github', 'gitea', 'gitlab'] as ForgeKindServed[])('%s paging', (kind) => {
  it("walks pages down to the running version's own release", async () => {
    forge = await startForge({ kind, perPage: 2 });
    publishVersions(forge, ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0']);
    const client = clientFor(forge);
    const list = await client.listReleases({ running: '1.2.0' });
    // Newest first, two per page: [1.5, 1.4] [1.3, 1.2] [1.1, 1.0] — 1.2.0 is on the second.
    expect(list.releases.map((r) => r.tag)).toEqual(['v1.5.0', 'v1.4.0', 'v1.3.0', 'v1.2.0']);
    // Gitea and Forgejo poll a small first page first (no ETag there): one request more here.
    expect(list.requests).toBe(kind === 'gitea' ? 3 : 2);
    const up = await client.listReleases({ running: '1.4.0' });
    expect(up.releases.map((r) => r.tag)).toEqual(['v1.5.0', 'v1.4.0']);
  });

  it('finds the newest release behind pages of patches to an older line', async () => {
    forge = await startForge({ kind, perPage: 2 });
    // 2.1.0 is the newest version, but five 1.9.x patches were published after it: the first
    // pages hold only versions below the running 2.0.0, and 2.1.0 sits on the third page.
    publishVersions(forge, ['1.9.0', '2.0.0', '2.1.0', '1.9.1', '1.9.2', '1.9.3', '1.9.4', '1.9.5']);
    const config = configSchema.parse({ forge: { kind, url: forge.url, repo: forge.repo } });
    const result = await checkForUpdate(config, depsFor(), { current: '2.0.0' });
    expect(result.selection.candidate?.version).toBe('2.1.0');
    expect(result.list.requests).toBe(kind === 'gitea' ? 5 : 4); // [1.9.5 1.9.4] [1.9.3 1.9.2] [1.9.1 2.1.0] [2.0.0 1.9.0]
  });

  it('pages until a wanted version is found, and stops at the page cap', async () => {
    forge = await startForge({ kind, perPage: 1 });
    publishVersions(
      forge,
      Array.from({ length: MAX_PAGES + 3 }, (_, i) => `1.${i}.0`),
    );
    const client = clientFor(forge);
    const found = await client.listReleases({ find: 'v1.10.0' });
    expect(found.releases.at(-1)?.tag).toBe('v1.10.0');
    const all = await client.listReleases({ running: '0.1.0' });
    // Gitea's small first page repeats at the top of the first full one.
    expect(all.releases).toHaveLength(kind === 'gitea' ? MAX_PAGES - 1 : MAX_PAGES);
    expect(all.requests).toBe(MAX_PAGES);
  });
});

describe('gitea without a Link header (an old version, or a proxy stripping it)', () => {
  it('asks for the next page only after a full page of 50', async () => {
    const tags = Array.from({ length: GITEA_PAGE_LIMIT + 3 }, (_, i) => `v0.${GITEA_PAGE_LIMIT + 3 - i}.0`);
    const urls: Urls = { origin: '', cdn: '', owner: 'acme', name: 'heph', project: 'acme%2Fheph' };
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      const u = new URL(req.url ?? '/', 'http://x');
      const page = Number(u.searchParams.get('page'));
      const limit = Number(u.searchParams.get('limit'));
      const slice = tags.slice((page - 1) * limit, page * limit).map((tag, i) =>
        giteaRelease(
          {
            id: i + 1,
            tag,
            prerelease: false,
            draft: false,
            publishedAt: '2026-01-01T00:00:00Z',
            createdAt: '2026-01-01T00:00:00Z',
            notes: '',
            assets: [],
          },
          urls,
          false,
        ),
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(slice));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    urls.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const config = configSchema.parse({ forge: { kind: 'gitea', url: urls.origin, repo: 'acme/heph' } });
      const list = await createForgeClient(config, depsFor()).listReleases({ running: '0.0.1' });
      expect(list.releases).toHaveLength(tags.length);
      expect(asked).toEqual([
        `/api/v1/repos/acme/heph/releases?page=1&limit=${GITEA_POLL_LIMIT}`,
        `/api/v1/repos/acme/heph/releases?page=1&limit=${GITEA_PAGE_LIMIT}`,
        `/api/v1/repos/acme/heph/releases?page=2&limit=${GITEA_PAGE_LIMIT}`,
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('gitea and forgejo polls (no ETag): a small first page', () => {
  it.each(['gitea', 'forgejo'] as ForgeKindServed[])(
    '%s: an unchanged poll reads the newest 5 only (≤ 8 KB); a newer release and apply --version still page on',
    async (kind) => {
      forge = await startForge({ kind, etag: false });
      for (let i = 0; i < 120; i++) {
        forge.publish({
          tag: `v1.${i}.0`,
          notes: `Release 1.${i}.0: fixes and improvements.`,
          assets: [
            { name: `heph-1.${i}.0.tgz`, content: `bundle ${i}` },
            { name: 'SHA256SUMS', content: `sums ${i}\n` },
          ],
        });
      }
      const client = clientFor(forge);
      const unchanged = await client.listReleases({ running: '1.119.0' });
      expect(unchanged.requests).toBe(1);
      expect(unchanged.bodyBytes).toBeLessThanOrEqual(8 * 1024);
      expect(unchanged.releases.map((r) => r.tag)).toEqual([
        'v1.119.0',
        'v1.118.0',
        'v1.117.0',
        'v1.116.0',
        'v1.115.0',
      ]);
      expect(listPath(forge).map((r) => new URL(r.path, 'http://x').searchParams.get('limit'))).toEqual([
        String(GITEA_POLL_LIMIT),
      ]);
      // Behind by 10: the small page does not decide; full pages from the top, no duplicates.
      const behind = await client.listReleases({ running: '1.109.0' });
      expect(behind.releases.map((r) => r.tag).slice(0, 11)).toEqual(
        Array.from({ length: 11 }, (_, i) => `v1.${119 - i}.0`),
      );
      expect(new Set(behind.releases.map((r) => r.tag)).size).toBe(behind.releases.length);
      // `update apply --version` of an old release: full pages straight away.
      const before = listPath(forge).length;
      const old = await client.listReleases({ find: 'v1.3.0' });
      expect(old.releases.some((r) => r.tag === 'v1.3.0')).toBe(true);
      expect(
        listPath(forge)
          .slice(before)
          .map((r) => new URL(r.path, 'http://x').searchParams.get('limit')),
      ).toEqual([String(GITEA_PAGE_LIMIT), String(GITEA_PAGE_LIMIT), String(GITEA_PAGE_LIMIT)]);
    },
  );
});

describe('conditional requests', () => {
  it.each(['github', 'gitlab', 'static'] as ForgeKindServed[])(
    '%s: the second list is a 304 served from the cache file',
    async (kind) => {
      forge = await startForge({ kind });
      publishVersions(forge, ['1.0.0', '1.1.0']);
      const first = await clientFor(forge).listReleases({ running: '1.0.0' });
      // A new client (a new process) reads the cache from the state folder.
      const second = await clientFor(forge).listReleases({ running: '1.0.0' });
      expect(first.fromCache).toBe(false);
      expect(second).toMatchObject({ fromCache: true, bodyBytes: 0, requests: 1 });
      expect(second.releases).toEqual(first.releases);
      expect(listPath(forge).map((r) => r.status)).toEqual([200, 304]);
      const mode = statSync(join(dir, 'state', 'http-cache.json')).mode & 0o777;
      expect(mode).toBe(0o600);
    },
  );

  it('a new release changes the answer: 200 again, not the stale cache', async () => {
    forge = await startForge({ kind: 'github' });
    publishVersions(forge, ['1.0.0']);
    await clientFor(forge).listReleases();
    publishVersions(forge, ['1.1.0']);
    const again = await clientFor(forge).listReleases();
    expect(again.fromCache).toBe(false);
    expect(again.releases.map((r) => r.tag)).toEqual(['v1.1.0', 'v1.0.0']);
  });
});

describe('gitlab subgroups', () => {
  it('addresses group/sub/project URL-encoded and downloads through direct_asset_url', async () => {
    forge = await startForge({ kind: 'gitlab', repo: 'platform/tools/heph' });
    publishVersions(forge, ['1.0.0']);
    const client = clientFor(forge);
    const [release] = (await client.listReleases()).releases;
    expect(forge.requests[0]!.path).toMatch(/^\/api\/v4\/projects\/platform%2Ftools%2Fheph\/releases\?/);
    const asset = release!.assets[0]!;
    expect(asset.url).toBe(`${forge.origin}/platform/tools/heph/-/releases/v1.0.0/downloads/heph-1.0.0.tgz`);
    const got = await client.downloadAsset(asset, join(dir, 'a'), { maxBytes: 100 });
    expect(got.sha256).toBe(sha256Hex(Buffer.from('the bytes of 1.0.0')));
    expect(forge.requests.slice(1).map((r) => r.status)).toEqual([302, 200]);
  });
});

describe('downloads', () => {
  it('github with a token: asset API URL, redirect to the CDN, token and header stay on the forge', async () => {
    const token = 'ghp_secret_for_test_0001';
    forge = await startForge({ kind: 'github' });
    publishVersions(forge, ['1.0.0']);
    forge.requireToken(token);
    const client = clientFor(forge, { HEPH_FORGE_TOKEN: token });
    const [release] = (await client.listReleases()).releases;
    const asset = release!.assets[0]!;
    expect(asset.url).toMatch(/\/releases\/assets\/\d+$/);
    expect(asset.sha256).toBe(sha256Hex(Buffer.from('the bytes of 1.0.0')));
    const dest = join(dir, 'dl.tgz');
    const seen: number[] = [];
    const got = await client.downloadAsset(asset, dest, { maxBytes: 1024, onProgress: (n) => seen.push(n) });
    expect(got).toEqual({ bytes: 18, sha256: asset.sha256 });
    expect(readFileSync(dest, 'utf8')).toBe('the bytes of 1.0.0');
    expect(statSync(dest).mode & 0o777).toBe(0o600);
    expect(seen.at(-1)).toBe(18);
    const api = forge.requests.find((r) => r.path.includes('/releases/assets/'))!;
    expect([api.headers.authorization, api.headers.accept, api.status]).toEqual([
      `Bearer ${token}`,
      'application/octet-stream',
      302,
    ]);
    const cdn = forge.requests.filter((r) => r.origin === forge!.cdnOrigin);
    expect(cdn).toHaveLength(1);
    expect(JSON.stringify(cdn[0]!.headers)).not.toContain(token);
    expect(cdn[0]!.headers.authorization).toBeUndefined();
  });

  it.each(['gitea', 'forgejo', 'gitlab', 'static'] as ForgeKindServed[])(
    '%s: download and text asset with the token in the kind header',
    async (kind) => {
      forge = await startForge({ kind });
      forge.publish({
        tag: 'v2.0.0',
        assets: [
          { name: 'heph-2.0.0.tgz', content: 'tarball' },
          { name: 'SHA256SUMS', content: 'abc  heph-2.0.0.tgz\n' },
        ],
      });
      forge.requireToken('tok_for_assets_0002');
      const client = clientFor(forge, { HEPH_FORGE_TOKEN: 'tok_for_assets_0002' });
      const [release] = (await client.listReleases()).releases;
      const byName = (n: string) => release!.assets.find((a) => a.name === n)!;
      expect(await client.fetchAssetText(byName('SHA256SUMS'), 100)).toBe('abc  heph-2.0.0.tgz\n');
      const got = await client.downloadAsset(byName('heph-2.0.0.tgz'), join(dir, 'a'), { maxBytes: 100 });
      expect(got.sha256).toBe(sha256Hex(Buffer.from('tarball')));
    },
  );

  it('refuses over the size cap, a truncated body and reports tampering through the hash', async () => {
    forge = await startForge({ kind: 'gitea' });
    forge.publish({ tag: 'v1.0.0', assets: [{ name: 'big.tgz', content: Buffer.alloc(4096, 7) }] });
    const client = clientFor(forge);
    const asset = (await client.listReleases()).releases[0]!.assets[0]!;
    const dest = join(dir, 'big');
    await expect(client.downloadAsset(asset, dest, { maxBytes: 1000 })).rejects.toMatchObject({
      code: 'E_FORGE_PAYLOAD',
    });
    forge.failNext({ kind: 'truncate' });
    const cut = await client.downloadAsset(asset, dest, { maxBytes: 10_000 }).catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(HephError);
    expect((cut as HephError).code).toBe('E_FORGE_UNREACHABLE');
    expect(() => statSync(dest)).toThrow(); // no partial file left behind
    forge.failNext({ kind: 'tamper' });
    const tampered = await client.downloadAsset(asset, dest, { maxBytes: 10_000 });
    expect(tampered.sha256).not.toBe(sha256Hex(Buffer.alloc(4096, 7)));
  });
});

describe('failures carry what the scheduler needs', () => {
  it('429 with Retry-After: E_FORGE_RATE_LIMITED with details.retryAt', async () => {
    forge = await startForge({ kind: 'gitlab' });
    forge.failNext({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    const before = Date.now();
    const e = (await clientFor(forge)
      .listReleases()
      .catch((x: unknown) => x)) as HephError;
    expect(e.code).toBe('E_FORGE_RATE_LIMITED');
    const retryAt = (e.details as { retryAt: number }).retryAt;
    expect(retryAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(retryAt).toBeLessThan(before + 180_000);
  });

  it('invalid JSON is E_FORGE_PAYLOAD naming the URL', async () => {
    forge = await startForge({ kind: 'github' });
    forge.failNext({ kind: 'garbage' });
    await expect(clientFor(forge).listReleases()).rejects.toMatchObject({
      code: 'E_FORGE_PAYLOAD',
      message: `github sent invalid JSON from ${forge.origin}/repos/acme/heph/releases`,
    });
  });
});
