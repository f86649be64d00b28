// Payload parsing per forge kind, as tables: the real field names turned into Release values, and
// every missing or mistyped field refused as E_FORGE_PAYLOAD naming the forge, item and field.
import { describe, expect, it } from 'vitest';
import { HephError } from '../../src/errors.js';
import { parseGiteaReleases } from '../../src/forge/gitea.js';
import { parseGithubReleases } from '../../src/forge/github.js';
import { parseGitlabReleases } from '../../src/forge/gitlab.js';
import { nextLink, parseJson, type SkippedRelease, sha256FromDigest } from '../../src/forge/payload.js';
import { parseStaticIndex } from '../../src/forge/static.js';

const HEX = 'ab'.repeat(32);

const githubRelease = (over: Record<string, unknown> = {}) => ({
  id: 1,
  tag_name: 'v1.2.3',
  name: 'heph 1.2.3',
  body: 'notes',
  draft: false,
  prerelease: false,
  immutable: true,
  created_at: '2026-01-01T00:00:00Z',
  published_at: '2026-01-02T00:00:00Z',
  html_url: 'https://github.com/acme/heph/releases/tag/v1.2.3',
  assets: [
    {
      url: 'https://api.github.com/repos/acme/heph/releases/assets/7',
      browser_download_url: 'https://github.com/acme/heph/releases/download/v1.2.3/heph-1.2.3.tgz',
      name: 'heph-1.2.3.tgz',
      size: 1234,
      content_type: 'application/gzip',
      state: 'uploaded',
      digest: `sha256:${HEX.toUpperCase()}`,
    },
  ],
  ...over,
});

function payloadError(fn: () => unknown): HephError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HephError);
    expect((e as HephError).code).toBe('E_FORGE_PAYLOAD');
    return e as HephError;
  }
  throw new Error('expected E_FORGE_PAYLOAD, nothing was thrown');
}

describe('github payloads', () => {
  it('reads the fields, ignores unknown ones, and takes the digest as lower-case hex', () => {
    const [r] = parseGithubReleases([githubRelease()], { authenticated: false });
    expect(r).toEqual({
      tag: 'v1.2.3',
      name: 'heph 1.2.3',
      notes: 'notes',
      draft: false,
      prerelease: false,
      publishedAt: '2026-01-02T00:00:00Z',
      url: 'https://github.com/acme/heph/releases/tag/v1.2.3',
      assets: [
        {
          name: 'heph-1.2.3.tgz',
          url: 'https://github.com/acme/heph/releases/download/v1.2.3/heph-1.2.3.tgz',
          size: 1234,
          sha256: HEX,
        },
      ],
    });
  });

  it('downloads through the asset API URL when a token is set (private repositories)', () => {
    const [r] = parseGithubReleases([githubRelease()], { authenticated: true });
    expect(r!.assets[0]!.url).toBe('https://api.github.com/repos/acme/heph/releases/assets/7');
  });

  it.each([
    [{ tag_name: 3 }, 'github release 0: tag_name: expected string, got number'],
    [{ draft: undefined }, 'github release 0: draft: expected boolean, got nothing'],
    [{ assets: null }, 'github release 0: assets: expected array, got null'],
    [{ published_at: 5 }, 'github release 0: published_at: expected string, got number'],
    [
      { assets: [{ name: 'a', url: 'ftp://x/a', browser_download_url: 'https://x/a', size: 1 }] },
      'github release 0: assets.0.url: expected an http(s) URL',
    ],
    [
      { assets: [{ name: 'a', url: 'https://x/a', browser_download_url: 'https://x/a', size: -1 }] },
      'github release 0: assets.0.size:',
    ],
  ])('refuses %j', (over, message) => {
    const e = payloadError(() => parseGithubReleases([githubRelease(over)], { authenticated: false }));
    expect(e.message).toContain(message);
  });

  it('refuses a page that is not a list, naming it', () => {
    expect(payloadError(() => parseGithubReleases({ message: 'hi' }, { authenticated: false })).message).toBe(
      'github releases: (top level): expected array, got object',
    );
  });

  it('keeps an unknown digest algorithm out of sha256', () => {
    expect(sha256FromDigest('sha512:abc')).toBeNull();
    expect(sha256FromDigest(null)).toBeNull();
    expect(sha256FromDigest(`sha256:${HEX}`)).toBe(HEX);
  });
});

describe('gitea and forgejo payloads', () => {
  const giteaRelease = (over: Record<string, unknown> = {}) => ({
    id: 4,
    tag_name: 'v2.0.0-rc.1',
    name: '',
    body: '',
    draft: false,
    prerelease: true,
    published_at: '2026-02-01T00:00:00Z',
    html_url: 'https://codeberg.org/acme/heph/releases/tag/v2.0.0-rc.1',
    assets: [
      {
        id: 9,
        name: 'heph-2.0.0-rc.1.tgz',
        size: 99,
        uuid: 'x',
        browser_download_url:
          'https://codeberg.org/acme/heph/releases/download/v2.0.0-rc.1/heph-2.0.0-rc.1.tgz',
        type: 'attachment',
      },
      {
        id: 10,
        name: 'mirror.tgz',
        size: 0,
        browser_download_url: 'https://cdn.example/m.tgz',
        type: 'external',
      },
    ],
    ...over,
  });

  it('reads the fields; an empty name falls back to the tag; external assets have no size', () => {
    const [r] = parseGiteaReleases([giteaRelease()], 'forgejo');
    expect(r).toMatchObject({ tag: 'v2.0.0-rc.1', name: 'v2.0.0-rc.1', prerelease: true, notes: '' });
    expect(r!.assets.map((a) => [a.name, a.size, a.sha256])).toEqual([
      ['heph-2.0.0-rc.1.tgz', 99, null],
      ['mirror.tgz', null, null],
    ]);
  });

  it('names forgejo or gitea in errors', () => {
    expect(
      payloadError(() => parseGiteaReleases([giteaRelease({ prerelease: 'yes' })], 'forgejo')).message,
    ).toBe('forgejo release 0: prerelease: expected boolean, got string');
    expect(payloadError(() => parseGiteaReleases([{}])).message).toBe(
      'gitea release 0: tag_name: expected string, got nothing',
    );
  });

  it('skips a malformed release among good ones and says which; a page of nothing readable throws', () => {
    const { assets: _gone, ...noAssets } = giteaRelease({ tag_name: 'v2.0.1\u001b[31m' });
    const skipped: SkippedRelease[] = [];
    const got = parseGiteaReleases([noAssets, giteaRelease(), 'junk'], 'gitea', skipped);
    expect(got.map((r) => r.tag)).toEqual(['v2.0.0-rc.1']);
    expect(skipped).toEqual([
      {
        index: 0,
        tag: 'v2.0.1?[31m',
        problem: 'gitea release 0 (v2.0.1?[31m): assets: expected array, got nothing',
      },
      { index: 2, tag: null, problem: 'gitea release 2: (top level): expected object, got string' },
    ]);
    expect(payloadError(() => parseGiteaReleases([noAssets, 'junk'])).message).toMatch(
      /^gitea release 0: assets/,
    );
  });
});

describe('gitlab payloads', () => {
  const gitlabRelease = (over: Record<string, unknown> = {}) => ({
    name: 'Release 1.4.0-beta.2',
    tag_name: '1.4.0-beta.2',
    description: 'desc',
    released_at: '2026-03-01T00:00:00Z',
    upcoming_release: false,
    assets: {
      count: 2,
      sources: [],
      links: [
        {
          id: 1,
          name: 'heph-1.4.0-beta.2.tgz',
          url: 'https://x/u/1',
          direct_asset_url: 'https://gl/acme/heph/-/releases/1.4.0-beta.2/downloads/heph-1.4.0-beta.2.tgz',
          link_type: 'package',
        },
        { id: 2, name: 'SHA256SUMS', url: 'https://x/u/2', link_type: 'other' },
      ],
    },
    ...over,
  });
  const opts = { web: 'https://gl/acme/heph', tagPrefix: 'v' };

  it('has no prerelease field: the semver tag decides; prefers direct_asset_url; sizes unknown', () => {
    const [r] = parseGitlabReleases([gitlabRelease()], opts);
    expect(r).toMatchObject({
      tag: '1.4.0-beta.2',
      notes: 'desc',
      prerelease: true,
      draft: false,
      publishedAt: '2026-03-01T00:00:00Z',
      url: 'https://gl/acme/heph/-/releases/1.4.0-beta.2',
    });
    expect(r!.assets.map((a) => [a.url, a.size])).toEqual([
      ['https://gl/acme/heph/-/releases/1.4.0-beta.2/downloads/heph-1.4.0-beta.2.tgz', null],
      ['https://x/u/2', null],
    ]);
    expect(parseGitlabReleases([gitlabRelease({ tag_name: 'v1.4.0' })], opts)[0]!.prerelease).toBe(false);
  });

  it('treats an upcoming release like a draft (the pager drops it)', () => {
    expect(parseGitlabReleases([gitlabRelease({ upcoming_release: true })], opts)[0]!.draft).toBe(true);
  });

  it('refuses assets without links', () => {
    expect(payloadError(() => parseGitlabReleases([gitlabRelease({ assets: {} })], opts)).message).toBe(
      'gitlab release 0: assets.links: expected array, got nothing',
    );
  });
});

describe('static index payloads', () => {
  const index = (assetUrl: string) => ({
    releases: [
      {
        tag: 'v1.0.0',
        prerelease: false,
        publishedAt: '2026-01-01T00:00:00Z',
        notes: 'n',
        assets: [{ name: 'heph-1.0.0.tgz', url: assetUrl, size: 5 }],
      },
    ],
  });

  it('resolves relative asset URLs against the index', () => {
    const [r] = parseStaticIndex(index('v1.0.0/heph-1.0.0.tgz'), 'https://rel.example/heph/index.json');
    expect(r!.assets[0]!.url).toBe('https://rel.example/heph/v1.0.0/heph-1.0.0.tgz');
    expect(r!.url).toBe('https://rel.example/heph/v1.0.0/');
    const [local] = parseStaticIndex(index('v1.0.0/heph-1.0.0.tgz'), 'file:///srv/rel/index.json');
    expect(local!.assets[0]!.url).toBe('file:///srv/rel/v1.0.0/heph-1.0.0.tgz');
  });

  it('refuses a file:// asset in an index served over HTTP, and a missing publishedAt', () => {
    expect(
      payloadError(() => parseStaticIndex(index('file:///etc/passwd'), 'https://rel.example/index.json'))
        .message,
    ).toContain('static release 0 (v1.0.0): assets.0: url: expected an http(s) URL');
    const noDate = { releases: [{ tag: 'v1', assets: [] }] };
    expect(payloadError(() => parseStaticIndex(noDate, 'https://r/index.json')).message).toBe(
      'static release 0: publishedAt: expected string, got nothing',
    );
  });
});

describe('shared readers', () => {
  it('parseJson names the URL without its query', () => {
    expect(
      payloadError(() => parseJson('{oops', 'gitea', 'https://g.example/api/v1/x?token=abc')).message,
    ).toBe('gitea sent invalid JSON from https://g.example/api/v1/x');
  });

  it.each([
    ['<https://a/?page=2>; rel="next", <https://a/?page=9>; rel="last"', 'https://a/?page=2'],
    ['<https://a/?page=9>; rel="last", <https://a/?page=3>; rel="next"', 'https://a/?page=3'],
    ['<https://a/?page=1>; rel="prev first"', null],
    ['<https://a/?page=4>; rel="prev next"', 'https://a/?page=4'],
    ['', null],
  ])('nextLink(%j)', (header, want) => {
    expect(nextLink(header)).toBe(want);
  });
});
