// The loopback test forge itself: each kind's paths, pagination, ETag/304, auth and faults, so
// the suites that build on it (clients, daemon, faults, benchmarks) can trust what it serves.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ForgeKindServed, startForge, type TestForge } from '../helpers/forge-server.js';

const LIST_PATH: Record<ForgeKindServed, string> = {
  github: '/repos/acme/heph/releases',
  gitea: '/api/v1/repos/acme/heph/releases',
  forgejo: '/api/v1/repos/acme/heph/releases',
  gitlab: '/api/v4/projects/acme%2Fheph/releases',
  static: '/releases/index.json',
};

let forge: TestForge | undefined;
afterEach(async () => {
  await forge?.close();
  forge = undefined;
});

function publishThree(f: TestForge): void {
  for (const v of ['1.0.0', '1.1.0', '2.0.0']) {
    f.publish({ tag: `v${v}`, assets: [{ name: `heph-${v}.tgz`, content: `bytes of ${v}` }] });
  }
}

describe.each(['github', 'gitea', 'forgejo', 'gitlab', 'static'] as const)('%s test forge', (kind) => {
  it('lists newest first on the real path and serves assets by their advertised URL', async () => {
    forge = await startForge({ kind });
    publishThree(forge);
    const res = await fetch(`${forge.origin}${LIST_PATH[kind]}`);
    expect(res.status).toBe(200);
    const json = (await res.json()) as unknown;
    const list = (kind === 'static' ? (json as { releases: unknown[] }).releases : json) as Record<
      string,
      unknown
    >[];
    const tags = list.map((r) => r.tag_name ?? r.tag);
    expect(tags).toEqual(['v2.0.0', 'v1.1.0', 'v1.0.0']);
    const first = list[0]!;
    const assetUrl =
      kind === 'github' || kind === 'gitea' || kind === 'forgejo'
        ? (first.assets as { browser_download_url: string }[])[0]!.browser_download_url
        : kind === 'gitlab'
          ? (first.assets as { links: { direct_asset_url: string }[] }).links[0]!.direct_asset_url
          : new URL((first.assets as { url: string }[])[0]!.url, forge.url).href;
    const asset = await fetch(assetUrl);
    expect(await asset.text()).toBe('bytes of 2.0.0');
  });

  it("answers 401 without the required token and 200 with it in the kind's header", async () => {
    forge = await startForge({ kind });
    publishThree(forge);
    forge.requireToken('s3cret');
    expect((await fetch(`${forge.origin}${LIST_PATH[kind]}`)).status).toBe(401);
    const header: Record<string, string> =
      kind === 'gitlab'
        ? { 'private-token': 's3cret' }
        : { authorization: kind === 'gitea' || kind === 'forgejo' ? 'token s3cret' : 'Bearer s3cret' };
    expect((await fetch(`${forge.origin}${LIST_PATH[kind]}`, { headers: header })).status).toBe(200);
  });

  it('fails the next request as told, then recovers', async () => {
    forge = await startForge({ kind });
    publishThree(forge);
    forge.failNext({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    forge.failNext({ kind: 'garbage' });
    const limited = await fetch(`${forge.origin}${LIST_PATH[kind]}`);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7']);
    const garbage = await fetch(`${forge.origin}${LIST_PATH[kind]}`);
    await expect(garbage.json()).rejects.toThrow();
    expect((await fetch(`${forge.origin}${LIST_PATH[kind]}`)).status).toBe(200);
    expect(forge.requests.map((r) => r.status)).toEqual([429, 200, 200]);
  });
});

describe('pagination and conditional requests', () => {
  it('github: Link rel="next" until the last page; ETag answered with 304', async () => {
    forge = await startForge({ kind: 'github', perPage: 2 });
    publishThree(forge);
    const one = await fetch(`${forge.origin}${LIST_PATH.github}?per_page=100`);
    expect(((await one.json()) as unknown[]).length).toBe(2);
    const next = /<([^>]+)>; rel="next"/.exec(one.headers.get('link') ?? '')?.[1];
    expect(next).toContain('page=2');
    const two = await fetch(next!);
    expect(((await two.json()) as unknown[]).length).toBe(1);
    expect(two.headers.get('link')).not.toContain('rel="next"');
    const etag = one.headers.get('etag')!;
    const again = await fetch(`${forge.origin}${LIST_PATH.github}?per_page=100`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect(forge.requests.at(-1)?.headers['if-none-match']).toBe(etag);
  });

  it('gitlab: x-next-page is empty on the last page; gitea sends no ETag', async () => {
    forge = await startForge({ kind: 'gitlab', perPage: 2 });
    publishThree(forge);
    const one = await fetch(`${forge.origin}${LIST_PATH.gitlab}?per_page=2&page=1`);
    expect(one.headers.get('x-next-page')).toBe('2');
    const two = await fetch(`${forge.origin}${LIST_PATH.gitlab}?per_page=2&page=2`);
    expect(two.headers.get('x-next-page')).toBe('');
    await forge.close();
    forge = await startForge({ kind: 'gitea' });
    publishThree(forge);
    expect((await fetch(`${forge.origin}${LIST_PATH.gitea}`)).headers.get('etag')).toBeNull();
  });

  it('github asset API URL redirects to the CDN origin; truncate and tamper change the bytes', async () => {
    forge = await startForge({ kind: 'github' });
    publishThree(forge);
    const list = (await (await fetch(`${forge.origin}${LIST_PATH.github}`)).json()) as {
      assets: { url: string; digest: string }[];
    }[];
    const api = list[0]!.assets[0]!.url;
    const hop = await fetch(api, { headers: { accept: 'application/octet-stream' }, redirect: 'manual' });
    expect(hop.status).toBe(302);
    expect(hop.headers.get('location')?.startsWith(forge.cdnOrigin)).toBe(true);
    forge.failNext({ kind: 'tamper' });
    const tampered = await fetch(api, { headers: { accept: 'application/octet-stream' } });
    expect(await tampered.text()).not.toBe('bytes of 2.0.0');
    forge.failNext({ kind: 'truncate' });
    const cut = await fetch(api, { headers: { accept: 'application/octet-stream' } });
    await expect(cut.text()).rejects.toThrow();
  });

  it('publishArtifacts publishes the tarball, SHA256SUMS and the signature when present', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heph-forge-art-'));
    try {
      writeFileSync(join(dir, 'heph-3.0.0.tgz'), 'tgz');
      writeFileSync(join(dir, 'SHA256SUMS'), 'sums');
      forge = await startForge({ kind: 'gitea' });
      forge.publishArtifacts('3.0.0', dir, { prerelease: true });
      const [r] = (await (await fetch(`${forge.origin}${LIST_PATH.gitea}`)).json()) as {
        tag_name: string;
        prerelease: boolean;
        assets: { name: string; size: number }[];
      }[];
      expect([r!.tag_name, r!.prerelease]).toEqual(['v3.0.0', true]);
      expect(r!.assets.map((a) => [a.name, a.size])).toEqual([
        ['heph-3.0.0.tgz', 3],
        ['SHA256SUMS', 4],
      ]);
      forge.unpublish('v3.0.0');
      expect(await (await fetch(`${forge.origin}${LIST_PATH.gitea}`)).json()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('chaos with the same seed fails the same requests', async () => {
    const run = async () => {
      const f = await startForge({ kind: 'github' });
      publishThree(f);
      f.setChaos({ seed: 42, rate: 0.5 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await fetch(`${f.origin}${LIST_PATH.github}`)).status);
      await f.close();
      return statuses;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(a.some((s) => s !== 200)).toBe(true);
  });
});
