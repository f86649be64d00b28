// Fuzzing every forge payload parser (fast-check): random JSON, random text, and real payloads
// with one field deleted or replaced. Whatever comes in, the only error out is E_FORGE_PAYLOAD,
// and whatever is accepted has the shape the rest of heph relies on (no TypeError downstream).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HephError } from '../../src/errors.js';
import { parseGiteaReleases } from '../../src/forge/gitea.js';
import { parseGithubReleases } from '../../src/forge/github.js';
import { parseGitlabReleases } from '../../src/forge/gitlab.js';
import { nextLink, parseJson, resolveNext } from '../../src/forge/payload.js';
import { parseStaticIndex } from '../../src/forge/static.js';
import type { Release } from '../../src/forge/types.js';
import {
  githubRelease,
  giteaRelease,
  gitlabRelease,
  type StoredRelease,
  staticIndex,
  type Urls,
} from '../helpers/forge-shapes.js';

/** Enough cases to hit every field of every shape several times, in a few seconds in total. */
const RUNS = 300;

const URLS: Urls = {
  origin: 'https://forge.example',
  cdn: 'https://cdn.example',
  owner: 'acme',
  name: 'heph',
  project: 'acme%2Fheph',
};

const stored = (tag: string): StoredRelease => ({
  id: 1,
  tag,
  prerelease: tag.includes('-'),
  draft: false,
  publishedAt: '2026-01-02T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  notes: 'notes',
  assets: [
    { id: 2, name: `heph-${tag}.tgz`, data: Buffer.from('bytes') },
    { id: 3, name: 'SHA256SUMS', data: Buffer.from('sums') },
  ],
});

interface Parser {
  name: string;
  parse: (json: unknown) => Release[];
  /** A real page (what the forge sends) to mutate. */
  real: () => unknown;
  /** URL schemes an accepted asset may have. */
  schemes: string[];
}

const PARSERS: Parser[] = [
  {
    name: 'github',
    parse: (j) => parseGithubReleases(j, { authenticated: false }),
    real: () => [githubRelease(stored('v1.2.3'), URLS), githubRelease(stored('v2.0.0-rc.1'), URLS)],
    schemes: ['https:', 'http:'],
  },
  {
    name: 'github (token)',
    parse: (j) => parseGithubReleases(j, { authenticated: true }),
    real: () => [githubRelease(stored('v1.2.3'), URLS)],
    schemes: ['https:', 'http:'],
  },
  {
    name: 'gitea',
    parse: (j) => parseGiteaReleases(j, 'gitea'),
    real: () => [giteaRelease(stored('v1.2.3'), URLS, false)],
    schemes: ['https:', 'http:'],
  },
  {
    name: 'forgejo',
    parse: (j) => parseGiteaReleases(j, 'forgejo'),
    real: () => [giteaRelease(stored('v1.2.3'), URLS, true), giteaRelease(stored('1.0.0'), URLS, true)],
    schemes: ['https:', 'http:'],
  },
  {
    name: 'gitlab',
    parse: (j) => parseGitlabReleases(j, { web: 'https://forge.example/acme/heph', tagPrefix: 'v' }),
    real: () => [gitlabRelease(stored('v1.2.3'), URLS, Date.now())],
    schemes: ['https:', 'http:'],
  },
  {
    name: 'static (https)',
    parse: (j) => parseStaticIndex(j, 'https://rel.example/heph/index.json'),
    real: () => staticIndex([stored('v1.2.3'), stored('v1.3.0-beta.1')]),
    schemes: ['https:', 'http:'],
  },
  {
    name: 'static (file)',
    parse: (j) => parseStaticIndex(j, 'file:///srv/heph/index.json'),
    real: () => staticIndex([stored('v1.2.3')]),
    schemes: ['https:', 'http:', 'file:'],
  },
];

/** Runs `fn`; a HephError E_FORGE_PAYLOAD is fine, anything else fails the property. */
function onlyPayloadErrors<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HephError && e.code === 'E_FORGE_PAYLOAD') {
      expect(e.message.length).toBeGreaterThan(0);
      expect(e.hint).toBeTruthy();
      return null;
    }
    throw e;
  }
}

function checkShape(releases: Release[], schemes: string[]): void {
  for (const r of releases) {
    expect(typeof r.tag).toBe('string');
    expect(typeof r.name).toBe('string');
    expect(typeof r.notes).toBe('string');
    expect(typeof r.draft).toBe('boolean');
    expect(typeof r.prerelease).toBe('boolean');
    expect(r.publishedAt === null || typeof r.publishedAt === 'string').toBe(true);
    for (const a of r.assets) {
      expect(typeof a.name).toBe('string');
      expect(schemes).toContain(new URL(a.url).protocol);
      expect(a.size === null || (Number.isInteger(a.size) && a.size >= 0)).toBe(true);
      expect(a.sha256 === null || /^[0-9a-f]{64}$/.test(a.sha256)).toBe(true);
    }
  }
}

type Json = unknown;
/** Every path to a value inside `v` (the root, object keys, array indexes): the mutation sites. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) out.push(...paths(x, [...prefix, i]));
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  }
  return out;
}

function mutate(root: Json, path: (string | number)[], replacement: Json, remove: boolean): Json {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let parent = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(parent)) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

describe.each(PARSERS)('$name parser', ({ parse, real, schemes }) => {
  it('accepts its real payload', () => {
    checkShape(parse(real()), schemes);
  });

  it('random JSON: a Release list or E_FORGE_PAYLOAD, nothing else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const got = onlyPayloadErrors(() => parse(json));
        if (got) checkShape(got, schemes);
      }),
      { numRuns: RUNS },
    );
  });

  it('a real payload with one field deleted or replaced', () => {
    const base = real();
    const all = paths(base);
    fc.assert(
      fc.property(
        fc.nat({ max: all.length - 1 }),
        fc.oneof(
          fc.jsonValue(),
          fc.constantFrom(
            null,
            '',
            'file:///etc/passwd',
            -1,
            1.5,
            'ftp://x/y',
            'https://[broken',
            '//[::1',
            [],
            {},
          ),
        ),
        fc.boolean(),
        (at, replacement, remove) => {
          const json = mutate(base, all[at]!, replacement, remove);
          const got = onlyPayloadErrors(() => parse(json));
          if (got) checkShape(got, schemes);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('text-level readers', () => {
  it('parseJson: any text is JSON or E_FORGE_PAYLOAD', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        onlyPayloadErrors(() => parseJson(text, 'github', 'https://api.github.com/repos/a/b/releases'));
      }),
      { numRuns: RUNS },
    );
  });

  it('Link headers: nextLink never throws, resolveNext gives http(s) or E_FORGE_PAYLOAD', () => {
    const linkish = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.webUrl(), fc.constantFrom('next', 'last', 'prev next', '"next"'))
        .map(([u, rel]) => `<${u}>; rel="${rel}"`),
      fc.tuple(fc.string(), fc.string()).map(([a, b]) => `<${a}>; rel=next, <${b}>`),
    );
    fc.assert(
      fc.property(linkish, (header) => {
        const next = nextLink(header);
        if (next === null) return;
        const url = onlyPayloadErrors(() => resolveNext(next, 'https://api.github.com/x', 'github'));
        if (url !== null) expect(['https:', 'http:']).toContain(new URL(url).protocol);
      }),
      { numRuns: RUNS },
    );
  });
});
