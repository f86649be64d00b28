import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import type { Release } from '../../src/forge/types.js';
import { select } from '../../src/release/select.js';
import type { Reason, SelectionInput, SelectionPolicy } from '../../src/release/types.js';
import { assetName, isMajorUpgrade, versionFromTag } from '../../src/release/version.js';

const NOW = Date.parse('2025-06-01T00:00:00Z');
const H = 3_600_000;
const D = 24 * H;

interface RelOpts {
  draft?: boolean;
  prerelease?: boolean;
  /** Hours before NOW; null = unpublished. */
  ageH?: number | null;
  /** Asset names; default the one the default policy wants. */
  assets?: string[];
}

function rel(tag: string, o: RelOpts = {}): Release {
  const version = tag.replace(/^[^\d]*/, '');
  const ageH = o.ageH === undefined ? 30 * 24 : o.ageH;
  return {
    tag,
    name: tag,
    notes: '',
    draft: o.draft ?? false,
    prerelease: o.prerelease ?? false,
    publishedAt: ageH === null ? null : new Date(NOW - ageH * H).toISOString(),
    url: `https://forge.test/r/${tag}`,
    assets: (o.assets ?? [`heph-${version}.tgz`]).map((name) => ({
      name,
      url: `https://forge.test/a/${tag}/${name}`,
      size: 1,
      sha256: null,
    })),
  };
}

const POLICY: SelectionPolicy = {
  channel: 'stable',
  allowMajor: false,
  pin: undefined,
  minReleaseAgeMs: 0,
  rolloutWindowMs: 0,
  tagPrefix: 'v',
  asset: 'heph-{version}.tgz',
  quarantined: [],
  paused: false,
};

interface Case {
  name: string;
  current: string;
  releases: Release[];
  policy?: Partial<SelectionPolicy>;
  bucket?: number;
  candidate: string | null;
  latest?: string | null;
  reason?: Reason | null;
  blocked?: string | null;
  eligibleAt?: number | null;
  detail?: string;
}

const CASES: Case[] = [
  // patch, minor, up to date
  { name: 'a patch', current: '1.2.3', releases: [rel('v1.2.3'), rel('v1.2.4')], candidate: '1.2.4' },
  {
    name: 'the highest of a patch and a minor',
    current: '1.2.3',
    releases: [rel('v1.2.4'), rel('v1.3.0'), rel('v1.2.3')],
    candidate: '1.3.0',
    latest: '1.3.0',
    reason: null,
    blocked: null,
    detail: '1.3.0 is available (current 1.2.3)',
  },
  {
    name: 'up to date',
    current: '1.3.0',
    releases: [rel('v1.2.0'), rel('v1.3.0')],
    candidate: null,
    latest: '1.3.0',
    reason: 'up-to-date',
    blocked: null,
    detail: '1.3.0 is the newest release (up to date)',
  },
  {
    name: 'current newer than every release',
    current: '1.4.0',
    releases: [rel('v1.3.0')],
    candidate: null,
    latest: '1.3.0',
    reason: 'up-to-date',
  },
  {
    name: 'no releases at all',
    current: '1.0.0',
    releases: [],
    candidate: null,
    latest: null,
    reason: 'up-to-date',
  },
  // the caret rule
  {
    name: 'a minor while the next major is blocked',
    current: '1.2.0',
    releases: [rel('v2.0.0'), rel('v1.3.0')],
    candidate: '1.3.0',
    latest: '2.0.0',
    reason: null,
    detail:
      '1.3.0 is available (current 1.2.0); 2.0.0 is a major upgrade; set update.allow_major = true to allow it',
  },
  {
    name: 'only a major',
    current: '1.3.0',
    releases: [rel('v2.0.0')],
    candidate: null,
    latest: '2.0.0',
    reason: 'major-blocked',
    blocked: '2.0.0',
    eligibleAt: null,
    detail: '2.0.0 is a major upgrade; set update.allow_major = true to allow it',
  },
  {
    name: 'a major with allow_major',
    current: '1.3.0',
    releases: [rel('v2.0.0'), rel('v1.3.1')],
    policy: { allowMajor: true },
    candidate: '2.0.0',
  },
  {
    name: '0.x: a patch is fine',
    current: '0.3.1',
    releases: [rel('v0.3.2'), rel('v0.4.0')],
    candidate: '0.3.2',
  },
  {
    name: '0.x: a minor is major',
    current: '0.3.1',
    releases: [rel('v0.4.0')],
    candidate: null,
    reason: 'major-blocked',
    blocked: '0.4.0',
  },
  {
    name: '0.0.x: any bump is major',
    current: '0.0.3',
    releases: [rel('v0.0.4')],
    candidate: null,
    reason: 'major-blocked',
  },
  {
    name: '0.0.x with allow_major',
    current: '0.0.3',
    releases: [rel('v0.0.4')],
    policy: { allowMajor: true },
    candidate: '0.0.4',
  },
  {
    name: 'a backport published after the major',
    current: '1.9.0',
    releases: [rel('v1.9.5', { ageH: 24 }), rel('v2.0.0', { ageH: 48 })],
    candidate: '1.9.5',
  },
  // prereleases and channels
  {
    name: 'stable: a prerelease by the forge flag is invisible',
    current: '1.2.0',
    releases: [rel('v1.3.0', { prerelease: true })],
    candidate: null,
    latest: null,
    reason: 'up-to-date',
  },
  {
    name: 'stable: a prerelease by semver is invisible even when the flag is off',
    current: '1.2.0',
    releases: [rel('v1.3.0-rc.1'), rel('v1.2.1')],
    candidate: '1.2.1',
    latest: '1.2.1',
  },
  {
    name: 'prerelease channel takes the rc',
    current: '1.2.0',
    releases: [rel('v1.3.0-rc.1'), rel('v1.2.5')],
    policy: { channel: 'prerelease' },
    candidate: '1.3.0-rc.1',
  },
  {
    name: 'prerelease channel: the release beats its rc',
    current: '1.2.0',
    releases: [rel('v1.3.0-rc.1'), rel('v1.3.0'), rel('v1.3.0-rc.2', { prerelease: true })],
    policy: { channel: 'prerelease' },
    candidate: '1.3.0',
  },
  {
    name: 'prerelease channel: an rc of the next major is major',
    current: '1.9.0',
    releases: [rel('v2.0.0-rc.1')],
    policy: { channel: 'prerelease' },
    candidate: null,
    reason: 'major-blocked',
  },
  {
    name: 'a prerelease current moves to its release on stable',
    current: '2.0.0-rc.1',
    releases: [rel('v2.0.0')],
    candidate: '2.0.0',
  },
  // drafts, unpublished, tags
  {
    name: 'a draft never',
    current: '1.2.0',
    releases: [rel('v1.3.0', { draft: true })],
    candidate: null,
    latest: null,
    reason: 'up-to-date',
  },
  {
    name: 'an unpublished release never',
    current: '1.2.0',
    releases: [rel('v1.3.0', { ageH: null }), rel('v1.2.1')],
    candidate: '1.2.1',
    latest: '1.2.1',
  },
  {
    name: 'non-semver tags are skipped',
    current: '1.2.0',
    releases: [rel('latest'), rel('v1.4'), rel('nightly-2025-06-01'), rel('v1.3.0')],
    candidate: '1.3.0',
    latest: '1.3.0',
  },
  {
    name: 'prefix v reads bare tags too',
    current: '1.2.0',
    releases: [rel('1.3.0'), rel('v1.2.5')],
    candidate: '1.3.0',
  },
  {
    name: 'no prefix: bare tags only',
    current: '1.2.0',
    releases: [rel('1.3.0'), rel('v1.4.0')],
    policy: { tagPrefix: '' },
    candidate: '1.3.0',
    latest: '1.3.0',
  },
  {
    name: 'a monorepo prefix ignores other components',
    current: '1.2.0',
    releases: [rel('app-1.3.0'), rel('lib-2.0.0')],
    policy: { tagPrefix: 'app-' },
    candidate: '1.3.0',
    latest: '1.3.0',
  },
  {
    name: 'semver precedence, not forge or string order',
    current: '1.2.0',
    releases: [rel('v1.9.0'), rel('v1.10.0'), rel('v1.2.1')],
    candidate: '1.10.0',
  },
  {
    name: 'a tie: the build that has the asset wins',
    current: '1.2.0',
    releases: [rel('v1.3.0', { assets: [] }), rel('1.3.0')],
    candidate: '1.3.0',
  },
  // pin
  {
    name: 'pin keeps to the range',
    current: '1.2.0',
    releases: [rel('v1.2.5'), rel('v1.3.0')],
    policy: { pin: '~1.2' },
    candidate: '1.2.5',
  },
  {
    name: 'pin blocks the only newer release',
    current: '1.2.0',
    releases: [rel('v1.3.0')],
    policy: { pin: '~1.2' },
    candidate: null,
    reason: 'pinned',
    blocked: '1.3.0',
    detail: '1.3.0 is outside update.pin "~1.2"',
  },
  {
    name: 'pin includes prereleases on the prerelease channel',
    current: '1.2.0',
    releases: [rel('v1.3.0-rc.1')],
    policy: { pin: '^1.2', channel: 'prerelease' },
    candidate: '1.3.0-rc.1',
  },
  {
    name: 'pin can allow a major when allow_major is set',
    current: '1.2.0',
    releases: [rel('v2.1.0'), rel('v3.0.0')],
    policy: { pin: '^2', allowMajor: true },
    candidate: '2.1.0',
  },
  // quarantine
  {
    name: 'quarantined release is passed over',
    current: '1.2.0',
    releases: [rel('v1.2.5'), rel('v1.3.0')],
    policy: { quarantined: ['1.3.0'] },
    candidate: '1.2.5',
  },
  {
    name: 'quarantined (by tag) only newer release',
    current: '1.2.0',
    releases: [rel('v1.3.0')],
    policy: { quarantined: ['v1.3.0'] },
    candidate: null,
    reason: 'quarantined',
    blocked: '1.3.0',
    detail: '1.3.0 is quarantined (it failed to start); run `heph update history` for details',
  },
  // assets
  {
    name: 'missing asset',
    current: '1.2.0',
    releases: [rel('v1.3.0', { assets: ['heph-1.3.0.zip'] })],
    candidate: null,
    reason: 'no-asset',
    blocked: '1.3.0',
    detail: '1.3.0 has no asset heph-1.3.0.tgz; check install.asset',
  },
  {
    name: 'asset named by tag',
    current: '1.2.0',
    releases: [rel('v1.3.0', { assets: ['heph-v1.3.0-linux.tar.gz'] })],
    policy: { asset: 'heph-{tag}-linux.tar.gz' },
    candidate: '1.3.0',
  },
  {
    name: 'an empty asset template needs no asset (npm, command)',
    current: '1.2.0',
    releases: [rel('v1.3.0', { assets: [] })],
    policy: { asset: '' },
    candidate: '1.3.0',
  },
  // min_release_age and rollout
  {
    name: 'too young',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: 2 })],
    policy: { minReleaseAgeMs: D },
    candidate: null,
    reason: 'too-young',
    blocked: '1.5.0',
    eligibleAt: NOW + 22 * H,
    detail: '1.5.0 was published 2h ago; update.min_release_age is 1d, so it becomes eligible in 22h',
  },
  {
    name: 'an older eligible release while the newest is too young',
    current: '1.3.0',
    releases: [rel('v1.4.0', { ageH: 240 }), rel('v1.5.0', { ageH: 2 })],
    policy: { minReleaseAgeMs: D },
    candidate: '1.4.0',
    reason: null,
  },
  {
    name: 'old enough',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: 48 })],
    policy: { minReleaseAgeMs: D },
    candidate: '1.5.0',
  },
  {
    name: 'published in the future (clock skew) waits',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: -1 })],
    candidate: null,
    reason: 'too-young',
    eligibleAt: NOW + H,
  },
  {
    name: 'staged by bucket',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: 1 })],
    policy: { rolloutWindowMs: 6 * H },
    bucket: 0.5,
    candidate: null,
    reason: 'staged',
    blocked: '1.5.0',
    eligibleAt: NOW + 2 * H,
    detail: '1.5.0 is staged for this machine: eligible in 2h (update.rollout_window)',
  },
  {
    name: 'an early bucket is past its stage',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: 1 })],
    policy: { rolloutWindowMs: 6 * H },
    bucket: 0.1,
    candidate: '1.5.0',
  },
  {
    name: 'bucket 0 goes first',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: 0 })],
    policy: { rolloutWindowMs: 6 * H },
    bucket: 0,
    candidate: '1.5.0',
  },
  {
    name: 'rollout starts after min_release_age',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: 25 })],
    policy: { minReleaseAgeMs: D, rolloutWindowMs: D },
    bucket: 0.25,
    candidate: null,
    reason: 'staged',
    eligibleAt: NOW + 5 * H,
  },
  {
    name: 'too young reports the full wait, rollout included',
    current: '1.4.0',
    releases: [rel('v1.5.0', { ageH: 2 })],
    policy: { minReleaseAgeMs: D, rolloutWindowMs: D },
    bucket: 0.5,
    candidate: null,
    reason: 'too-young',
    eligibleAt: NOW + 34 * H,
  },
  // pause
  {
    name: 'paused: reports what it would take',
    current: '1.2.0',
    releases: [rel('v1.3.0')],
    policy: { paused: true },
    candidate: null,
    latest: '1.3.0',
    reason: 'paused',
    blocked: '1.3.0',
    eligibleAt: null,
    detail: 'updates are paused (1.3.0 is available); run `heph update resume`',
  },
  {
    name: 'paused and up to date says up to date',
    current: '1.3.0',
    releases: [rel('v1.3.0')],
    policy: { paused: true },
    candidate: null,
    reason: 'up-to-date',
  },
  {
    name: 'the newest blocked reason wins over an older one',
    current: '1.2.0',
    releases: [rel('v2.0.0'), rel('v1.3.0', { assets: [] })],
    candidate: null,
    reason: 'major-blocked',
    blocked: '2.0.0',
  },
];

describe('select: table', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const s = select({
      releases: c.releases,
      current: c.current,
      policy: { ...POLICY, ...c.policy },
      now: NOW,
      bucket: c.bucket ?? 0,
    });
    expect(s.candidate?.version ?? null).toBe(c.candidate);
    if (c.candidate !== null) expect(s.reason).toBeNull();
    if ('latest' in c) expect(s.latest?.version ?? null).toBe(c.latest);
    if ('reason' in c) expect(s.reason).toBe(c.reason);
    if ('blocked' in c) expect(s.blocked?.version ?? null).toBe(c.blocked);
    if ('eligibleAt' in c) expect(s.eligibleAt).toBe(c.eligibleAt);
    if ('detail' in c) expect(s.detail).toBe(c.detail);
    expect(s.detail).not.toBe('');
  });

  it('refuses a current version that is not semver', () => {
    expect(() => select({ releases: [], current: 'dev', policy: POLICY, now: NOW, bucket: 0 })).toThrow(
      /not a semver version/,
    );
  });
});

// ---- properties ----------------------------------------------------------------------------

const versionArb = fc
  .tuple(
    fc.nat(3),
    fc.nat(3),
    fc.nat(3),
    fc.option(fc.constantFrom('rc.1', 'rc.2', 'beta'), { nil: undefined }),
  )
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`);

/** True about one time in five: the exceptions (drafts, missing assets) must not drown the rest. */
const rarely = fc.integer({ min: 0, max: 4 }).map((n) => n === 0);

const releaseArb: fc.Arbitrary<Release> = fc
  .record({
    version: versionArb,
    tagForm: fc.constantFrom('v', 'v', '', 'garbage'),
    draft: rarely,
    prerelease: rarely,
    ageH: fc.option(fc.oneof(fc.integer({ min: -5, max: 80 }), fc.integer({ min: 0, max: 240 })), {
      nil: null,
      freq: 10,
    }),
    hasAsset: rarely.map((b) => !b),
  })
  .map((r) => {
    const tag = r.tagForm === 'garbage' ? `nightly-${r.version}` : `${r.tagForm}${r.version}`;
    return rel(tag, {
      draft: r.draft,
      prerelease: r.prerelease,
      ageH: r.ageH,
      assets: r.hasAsset ? [`heph-${r.version}.tgz`, 'SHA256SUMS'] : ['SHA256SUMS'],
    });
  });

const policyArb: fc.Arbitrary<SelectionPolicy> = fc.record({
  channel: fc.constantFrom('stable' as const, 'prerelease' as const),
  allowMajor: fc.boolean(),
  pin: fc.constantFrom(undefined, undefined, undefined, '^1', '~1.2', '>=0.3 <2', '2.x', '^0.1'),
  minReleaseAgeMs: fc.constantFrom(0, H, D),
  rolloutWindowMs: fc.constantFrom(0, 6 * H, 3 * D),
  tagPrefix: fc.constant('v'),
  asset: fc.constant('heph-{version}.tgz'),
  quarantined: fc.array(versionArb, { maxLength: 2 }),
  paused: rarely,
});

// Quarantine versions drawn from the releases themselves, or the rule would almost never bite.
const inputArb: fc.Arbitrary<SelectionInput> = fc
  .record({
    releases: fc.array(releaseArb, { minLength: 1, maxLength: 12, size: 'large' }),
    // Low currents, so most inputs have something newer to decide about.
    current: fc.constantFrom('0.0.1', '0.1.0', '0.3.1', '1.0.0', '1.2.3', '1.3.0-rc.1', '2.0.0'),
    policy: policyArb,
    now: fc.constant(NOW),
    bucket: fc.integer({ min: 0, max: 999 }).map((n) => n / 1000),
  })
  .chain((input) =>
    fc
      .subarray(
        input.releases.map((r) => r.tag.replace(/^[^\d]*/, '')),
        {
          maxLength: Math.min(2, input.releases.length),
        },
      )
      .map((q) => ({
        ...input,
        policy: { ...input.policy, quarantined: [...input.policy.quarantined, ...q] },
      })),
  );

/** Every rule written out again, plainly, to check select() against. */
function bruteForceEligible(input: SelectionInput): string[] {
  const { policy: p, current } = input;
  const ok: string[] = [];
  for (const r of input.releases) {
    const v = versionFromTag(r.tag, p.tagPrefix);
    if (r.draft || r.publishedAt === null || v === null) continue;
    const pre = r.prerelease || semver.prerelease(v) !== null;
    if (p.channel === 'stable' && pre) continue;
    if (!semver.gt(v, current)) continue;
    if (!p.allowMajor && isMajorUpgrade(current, v)) continue;
    if (p.pin && !semver.satisfies(v, p.pin, { includePrerelease: p.channel === 'prerelease' })) continue;
    if (p.quarantined.some((q) => semver.eq(q, v))) continue;
    if (!r.assets.some((a) => a.name === assetName(p.asset, v, r.tag))) continue;
    const at = Date.parse(r.publishedAt) + p.minReleaseAgeMs + Math.floor(input.bucket * p.rolloutWindowMs);
    if (input.now < at) continue;
    ok.push(v);
  }
  return ok;
}

describe('select: properties', () => {
  it('the candidate is the highest eligible release, and obeys every rule', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const s = select(input);
        const eligible = bruteForceEligible(input);
        const highest = eligible.sort(semver.rcompare)[0] ?? null;
        expect(s.candidate?.version ?? null).toBe(input.policy.paused ? null : highest);
        if (input.policy.paused && highest !== null) {
          expect(s.reason).toBe('paused');
          expect(s.blocked?.version).toBe(highest);
        }
        const c = s.candidate;
        if (c === null) {
          expect(s.reason).not.toBeNull();
          return;
        }
        expect(s.reason).toBeNull();
        expect(c.draft).toBe(false);
        expect(semver.gt(c.version, input.current)).toBe(true);
        if (!input.policy.allowMajor) expect(isMajorUpgrade(input.current, c.version)).toBe(false);
        if (input.policy.pin) {
          expect(semver.satisfies(c.version, input.policy.pin, { includePrerelease: true })).toBe(true);
        }
        expect(c.assets.map((a) => a.name)).toContain(`heph-${c.version}.tgz`);
        if (input.policy.channel === 'stable') {
          expect(c.prerelease || semver.prerelease(c.version) !== null).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('up-to-date exactly when nothing newer is on the channel; latest is the channel maximum', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const s = select(input);
        const onChannel = input.releases
          .filter((r) => !r.draft && r.publishedAt !== null)
          .map((r) => ({ r, v: versionFromTag(r.tag, 'v') }))
          .filter(
            (x): x is { r: Release; v: string } =>
              x.v !== null &&
              (input.policy.channel === 'prerelease' || (!x.r.prerelease && semver.prerelease(x.v) === null)),
          )
          .map((x) => x.v)
          .sort(semver.rcompare);
        expect(s.latest?.version ?? null).toBe(onChannel[0] ?? null);
        const anyNewer = onChannel.some((v) => semver.gt(v, input.current));
        expect(s.reason === 'up-to-date').toBe(!anyNewer);
        if (s.reason === 'too-young' || s.reason === 'staged') expect(s.eligibleAt).toBeGreaterThan(NOW);
        else expect(s.eligibleAt).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  it('does not depend on the order of the releases', () => {
    fc.assert(
      fc.property(
        inputArb.chain((input) =>
          fc.tuple(
            fc.constant(input),
            fc.shuffledSubarray([...input.releases], { minLength: input.releases.length }),
          ),
        ),
        ([input, shuffled]) => {
          expect(select({ ...input, releases: shuffled })).toEqual(select(input));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
