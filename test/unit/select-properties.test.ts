import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import type { Release } from '../../src/forge/types.js';
import { select } from '../../src/release/select.js';
import type { SelectionInput, SelectionPolicy } from '../../src/release/types.js';
import { versionFromTag } from '../../src/forge/tag.js';
import { assetName, isMajorUpgrade } from '../../src/release/version.js';
import { D, H, NOW, rel } from './select-fixtures.js';

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
        const published = input.releases.filter((r) => !r.draft);
        const noSemver = published.length > 0 && published.every((r) => versionFromTag(r.tag, 'v') === null);
        expect(s.reason === 'no-semver-tags').toBe(noSemver);
        expect(s.reason === 'up-to-date' || s.reason === 'no-semver-tags').toBe(!anyNewer);
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
