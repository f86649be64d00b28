// Releases and a default policy for the selection tests (table and properties).
import type { Release } from '../../src/forge/types.js';
import type { SelectionPolicy } from '../../src/release/types.js';

export const NOW = Date.parse('2025-06-01T00:00:00Z');
export const H = 3_600_000;
export const D = 24 * H;

interface RelOpts {
  draft?: boolean;
  prerelease?: boolean;
  /** Hours before NOW; null = unpublished. */
  ageH?: number | null;
  /** Asset names; default the one the default policy wants. */
  assets?: string[];
}

export function rel(tag: string, o: RelOpts = {}): Release {
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

export const POLICY: SelectionPolicy = {
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
