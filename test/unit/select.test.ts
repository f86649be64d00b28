import { describe, expect, it } from 'vitest';
import type { Release } from '../../src/forge/types.js';
import { select } from '../../src/release/select.js';
import type { Reason, SelectionPolicy } from '../../src/release/types.js';
import { D, H, NOW, POLICY, rel } from './select-fixtures.js';

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
    name: 'a version rolled back by hand is skipped like a quarantined one (rolled-back)',
    releases: [rel('v1.3.0')],
    current: '1.2.0',
    policy: { rolledBack: ['1.3.0'] },
    candidate: null,
    reason: 'rolled-back',
  },
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
