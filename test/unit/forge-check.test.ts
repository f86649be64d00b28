// The release check's glue and the pager's stop rule: policy from the config, this machine's
// facts (pause, quarantine, store), the `update check --json` document, and when paging stops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { updateState } from '../../src/update/state.js';
import { pageDecides } from '../../src/forge/list.js';
import type { ForgeClient, ListOptions, Release } from '../../src/forge/types.js';
import { quarantineVersion } from '../../src/install/launcher-state.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { checkForUpdate, checkReport } from '../../src/update/check.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

const rel = (tag: string, over: Partial<Release> = {}): Release => ({
  tag,
  name: tag,
  notes: '',
  draft: false,
  prerelease: false,
  publishedAt: '2026-05-01T00:00:00Z',
  url: `https://forge.example/r/${tag}`,
  assets: [
    {
      name: `heph-${tag.replace(/^v/, '')}.tgz`,
      url: `https://forge.example/a/${tag}`,
      size: 1,
      sha256: null,
    },
  ],
  ...over,
});

describe('pageDecides (the stop rule)', () => {
  it.each<[string, Release[], ListOptions, boolean]>([
    ['the running release is seen', [rel('v1.3.0'), rel('v1.2.0')], { running: '1.2.0' }, true],
    ['the running release, tagged without the prefix', [rel('1.2.0')], { running: '1.2.0' }, true],
    ['the running release with build metadata', [rel('v1.2.0+linux')], { running: '1.2.0' }, true],
    // The rule it replaces stopped here: a whole page at or below the running version, while
    // the newest release (published before these patches of an older line) is on a later page.
    [
      'a page of older-line patches does not stop the walk',
      [rel('v1.9.12'), rel('v1.9.11'), rel('v1.9.10')],
      { running: '2.0.0' },
      false,
    ],
    [
      'a draft of the running version is not its release',
      [rel('v1.2.0', { draft: true })],
      { running: '1.2.0' },
      false,
    ],
    [
      'a prerelease of the running version is not its release',
      [rel('v1.2.0-rc.1')],
      { running: '1.2.0' },
      false,
    ],
    ['no rule: walk on', [rel('v1.0.0')], {}, false],
    ['find: found by version', [rel('v1.0.0')], { find: '1.0.0' }, true],
    ['find: found by tag', [rel('v1.0.0')], { find: 'v1.0.0' }, true],
    ['find: a non-semver name matches only its own tag', [rel('nightly')], { find: 'latest' }, false],
    ['find: not yet (ignores running)', [rel('v1.0.0')], { find: '0.9.0', running: '1.0.0' }, false],
  ])('%s', (_name, page, opts, want) => {
    expect(pageDecides(page, opts, 'v')).toBe(want);
  });
});

describe('checkForUpdate and checkReport', () => {
  let dir: string;
  let deps: Deps;
  let asked: ListOptions[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heph-check-unit-'));
    const env = { HEPH_HOME: dir, HEPH_MACHINE_ID: 'machine-a' };
    deps = createDeps({ env, paths: resolvePaths(env), clock: { now: () => NOW } });
    asked = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const client = (releases: Release[]): ForgeClient => ({
    kind: 'github',
    repo: 'acme/heph',
    async listReleases(opts = {}) {
      asked.push(opts);
      return { releases, fromCache: false, requests: 1, bodyBytes: 10 };
    },
    downloadAsset: async () => {
      throw new Error('a check never downloads');
    },
    fetchAssetText: async () => {
      throw new Error('a check never downloads');
    },
  });
  const config = (over: Record<string, unknown> = {}) =>
    configSchema.parse({ forge: { kind: 'github', repo: 'acme/heph' }, ...over });

  it('lists with the stop rule at current and reports the documented update check document', async () => {
    const releases = [rel('v1.2.0'), rel('v1.3.0'), rel('v2.0.0')];
    const result = await checkForUpdate(config(), deps, { client: client(releases), current: '1.2.0' });
    expect(asked).toEqual([{ running: '1.2.0' }]);
    expect(checkReport(result, config())).toEqual({
      current: '1.2.0',
      latest: '2.0.0',
      candidate: '1.3.0',
      available: true,
      reason: null,
      release: {
        tag: 'v1.3.0',
        version: '1.3.0',
        url: 'https://forge.example/r/v1.3.0',
        publishedAt: '2026-05-01T00:00:00Z',
        prerelease: false,
      },
      checkedAt: new Date(NOW).toISOString(),
      forge: { kind: 'github', repo: 'acme/heph', url: 'https://api.github.com/' },
      detail:
        '1.3.0 is available (current 1.2.0); 2.0.0 is a major upgrade; set update.allow_major = true to allow it',
      eligibleAt: null,
      blocked: null,
      requests: 1,
      bodyBytes: 10,
      fromCache: false,
      skipped: [],
    });
  });

  it('reads a pause from state.json, and lets it lapse after pausedUntil', async () => {
    updateState(deps.paths, (s) => {
      s.guard.paused = true;
      s.guard.pausedUntil = NOW + 60_000;
    });
    const opts = { client: client([rel('v1.3.0')]), current: '1.2.0' };
    expect((await checkForUpdate(config(), deps, opts)).selection.reason).toBe('paused');
    updateState(deps.paths, (s) => {
      s.guard.pausedUntil = NOW - 1;
    });
    expect((await checkForUpdate(config(), deps, opts)).selection.candidate?.version).toBe('1.3.0');
  });

  it('skips quarantined versions (launcher state) and needs no asset for install.method = "npm"', async () => {
    quarantineVersion(deps.paths, '1.3.0', 'failed to start');
    const noAssets = [rel('v1.3.0', { assets: [] }), rel('v1.2.1', { assets: [] })];
    const bundle = await checkForUpdate(config(), deps, { client: client(noAssets), current: '1.2.0' });
    expect(bundle.selection).toMatchObject({ candidate: null, reason: 'quarantined' });
    const npm = await checkForUpdate(config({ install: { method: 'npm' } }), deps, {
      client: client(noAssets),
      current: '1.2.0',
    });
    expect(npm.selection.candidate?.version).toBe('1.2.1');
  });

  it('with findVersion: pages to it and lists prereleases even on the stable channel', async () => {
    const result = await checkForUpdate(config(), deps, {
      client: client([rel('v1.3.0-rc.1', { prerelease: true }), rel('v1.2.0')]),
      current: '1.2.0',
      findVersion: '1.3.0-rc.1',
    });
    expect(asked).toEqual([{ find: '1.3.0-rc.1' }]);
    expect(result.releases.map((r) => r.version)).toEqual(['1.3.0-rc.1', '1.2.0']);
    expect(result.selection.reason).toBe('up-to-date');
  });

  it('defaults current to the running version when the store is empty', async () => {
    const result = await checkForUpdate(config(), deps, { client: client([]) });
    expect(result.current).toMatch(/^\d+\.\d+\.\d+/);
    expect(checkReport(result, config())).toMatchObject({
      latest: null,
      release: null,
      reason: 'up-to-date',
    });
  });
});
