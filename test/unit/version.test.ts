import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { versionFromTag } from '../../src/forge/tag.js';
import { assetName, isMajorUpgrade } from '../../src/release/version.js';

describe('versionFromTag', () => {
  it.each([
    ['v1.2.3', 'v', '1.2.3'],
    ['1.2.3', 'v', '1.2.3'],
    ['v1.3.0-rc.1', 'v', '1.3.0-rc.1'],
    ['v1.2.3+linux', 'v', '1.2.3+linux'],
    ['1.2.3', '', '1.2.3'],
    ['app-1.2.3', 'app-', '1.2.3'],
    ['1.2.3', 'app-', '1.2.3'],
    ['release/2.0.0', 'release/', '2.0.0'],
  ])('%s with prefix %j reads %s', (tag, prefix, version) => {
    expect(versionFromTag(tag, prefix)).toBe(version);
  });

  it.each([
    ['vv1.2.3', 'v'],
    ['v1.2.3', ''], // with no prefix configured, a v-tag is somebody else's naming
    ['lib-1.2.3', 'app-'],
    ['latest', 'v'],
    ['nightly', 'v'],
    ['v1.2', 'v'],
    ['v1', 'v'],
    ['v01.2.3', 'v'],
    ['v1.2.3.4', 'v'],
    [' 1.2.3', 'v'],
    ['v1.2.3 ', 'v'],
    ['=1.2.3', 'v'],
    ['', 'v'],
    ['v', 'v'],
  ])('%j with prefix %j is not a version', (tag, prefix) => {
    expect(versionFromTag(tag, prefix)).toBeNull();
  });

  it('reads back any valid version, with or without the prefix', () => {
    const version = fc
      .tuple(fc.nat(50), fc.nat(50), fc.nat(50), fc.option(fc.constantFrom('rc.1', 'beta', 'alpha.2')))
      .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`);
    fc.assert(
      fc.property(version, fc.boolean(), (v, prefixed) => {
        expect(versionFromTag(prefixed ? `v${v}` : v, 'v')).toBe(v);
      }),
    );
  });

  it('never returns something semver rejects', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('', 'v', 'app-'), (tag, prefix) => {
        const v = versionFromTag(tag, prefix);
        if (v !== null) expect(semver.valid(v)).not.toBeNull();
      }),
    );
  });
});

describe('isMajorUpgrade (caret rule)', () => {
  it.each([
    ['1.2.3', '1.2.4', false],
    ['1.2.3', '1.9.0', false],
    ['1.2.3', '2.0.0', true],
    ['1.9.0', '2.0.0-rc.1', true],
    ['2.0.0-rc.1', '2.0.0', false],
    ['2.0.0-rc.1', '2.1.0', false],
    ['1.2.3', '1.3.0-beta.1', false],
    ['0.3.1', '0.3.9', false],
    ['0.3.1', '0.4.0', true],
    ['0.3.1', '1.0.0', true],
    ['0.0.3', '0.0.4', true],
    ['0.0.3', '0.1.0', true],
    ['0.0.3-rc.1', '0.0.3', false],
    ['1.2.3', '1.2.3', false],
    ['2.0.0', '1.9.0', false], // a downgrade is not a major upgrade
  ])('%s -> %s is major: %s', (from, to, major) => {
    expect(isMajorUpgrade(from, to)).toBe(major);
  });

  it("agrees with semver's caret range for release versions", () => {
    const v = fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3)).map(([a, b, c]) => `${a}.${b}.${c}`);
    fc.assert(
      fc.property(v, v, (from, to) => {
        fc.pre(semver.gt(to, from));
        expect(isMajorUpgrade(from, to)).toBe(!semver.satisfies(to, `^${from}`));
      }),
    );
  });
});

describe('assetName', () => {
  it.each([
    ['heph-{version}.tgz', 'heph-1.2.3.tgz'],
    ['heph-{tag}-linux-x64.tar.gz', 'heph-v1.2.3-linux-x64.tar.gz'],
    ['{version}/{version}.zip', '1.2.3/1.2.3.zip'],
    ['heph.tgz', 'heph.tgz'],
  ])('%s -> %s', (template, name) => {
    expect(assetName(template, '1.2.3', 'v1.2.3')).toBe(name);
  });
});
