// `heph update check` deciding with each [update] policy, as a user runs it: the built CLI against
// the loopback forge, the candidate and the `reason` of docs/cli.md, and a 250-release history paged.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quarantineVersion } from '../../src/install/launcher-state.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { bucketOf } from '../../src/update/bucket.js';
import { checkJson, configure, release, runningVersion } from '../helpers/check-cli.js';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { type ForgeKindServed, startForge, type TestForge } from '../helpers/forge-server.js';

const DAY_MS = 86_400_000;

let forge: TestForge | undefined;
let home: Scratch;
beforeEach(() => {
  home = scratch('heph-check-policy-');
});
afterEach(async () => {
  await forge?.close();
  forge = undefined;
  home.cleanup();
});

const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString();

/** The first id `machine-<i>` whose rollout bucket passes `test`: a fixed, searchable HEPH_MACHINE_ID. */
function machineIdWhere(test: (bucket: number) => boolean): { id: string; bucket: number } {
  for (let i = 0; ; i++) {
    const id = `machine-${i}`;
    const bucket = bucketOf(id);
    if (test(bucket)) return { id, bucket };
  }
}

async function human(args: string[], env: Record<string, string> = {}) {
  return runHeph(['update', 'check', ...args], { ...home.env, ...env });
}

describe('allow_major and the caret rule on 0.x (gitea)', () => {
  it('a minor bump on 0.x is major: blocked by default, taken with allow_major = true', async () => {
    forge = await startForge({ kind: 'gitea' });
    for (const v of ['0.3.1', '0.3.2', '0.4.0', '1.0.0']) release(forge, v);
    configure(home, forge);
    runningVersion(home, '0.3.1');
    const lower = await checkJson(home);
    expect(lower.doc).toMatchObject({ current: '0.3.1', latest: '1.0.0', candidate: '0.3.2', reason: null });
    const said = await human(['--exit-code']);
    expect(said.exitCode).toBe(10);
    expect(said.stdout).toContain('1.0.0 is a major upgrade; set update.allow_major = true to allow it');

    forge.unpublish('v0.3.2');
    const blocked = await checkJson(home);
    // The newest release that is blocked is the one reported; 0.4.0 is blocked for the same reason.
    expect(blocked.doc).toMatchObject({
      candidate: null,
      available: false,
      reason: 'major-blocked',
      blocked: '1.0.0',
      release: { tag: 'v1.0.0' },
    });
    expect((await human(['--exit-code'])).exitCode).toBe(0);

    configure(home, forge, '[update]\nallow_major = true\n');
    const taken = await checkJson(home);
    expect(taken.doc).toMatchObject({ candidate: '1.0.0', available: true, reason: null });
  });
});

describe('update.pin (github)', () => {
  it('takes the newest release inside the range, says which one is outside, and alone that is pinned', async () => {
    forge = await startForge({ kind: 'github' });
    for (const v of ['1.2.0', '1.2.1', '1.3.0']) release(forge, v);
    configure(home, forge, '[update]\npin = "~1.2"\n');
    runningVersion(home, '1.2.0');
    expect((await checkJson(home)).doc).toMatchObject({ latest: '1.3.0', candidate: '1.2.1', reason: null });
    expect((await human([])).stdout).toContain('1.3.0 is outside update.pin "~1.2"');

    forge.unpublish('v1.2.1');
    const pinned = await checkJson(home);
    expect(pinned.doc).toMatchObject({
      candidate: null,
      reason: 'pinned',
      blocked: '1.3.0',
      release: { tag: 'v1.3.0', version: '1.3.0' },
    });

    // A pin holds even where allow_major would let a major through.
    release(forge, '2.0.0');
    configure(home, forge, '[update]\nallow_major = true\npin = "^1"\n');
    const major = await checkJson(home);
    expect(major.doc).toMatchObject({ latest: '2.0.0', candidate: '1.3.0', reason: null });
  });
});

describe.each(['github', 'gitlab'] as ForgeKindServed[])('release age and staged rollout with %s', (kind) => {
  it('min_release_age: the older release is taken while the newer is too young; eligibleAt is exact', async () => {
    forge = await startForge({ kind });
    const young = daysAgo(1);
    release(forge, '1.2.0', { publishedAt: daysAgo(30) });
    release(forge, '1.2.1', { publishedAt: daysAgo(5) });
    release(forge, '1.2.2', { publishedAt: young });
    configure(home, forge, '[update]\nmin_release_age = "3d"\n');
    runningVersion(home, '1.2.0');
    const older = await checkJson(home);
    expect(older.doc).toMatchObject({ latest: '1.2.2', candidate: '1.2.1', reason: null });

    forge.unpublish('v1.2.1');
    const waiting = await checkJson(home);
    expect(waiting.doc).toMatchObject({
      candidate: null,
      reason: 'too-young',
      blocked: '1.2.2',
      release: { publishedAt: young },
      eligibleAt: new Date(Date.parse(young) + 3 * DAY_MS).toISOString(),
    });
  });

  it('rollout_window: HEPH_MACHINE_ID decides who waits, for published + min_release_age + bucket × window', async () => {
    forge = await startForge({ kind });
    const published = daysAgo(10);
    release(forge, '1.2.0', { publishedAt: daysAgo(30) });
    release(forge, '1.2.1', { publishedAt: published });
    configure(home, forge, '[update]\nmin_release_age = "1d"\nrollout_window = "20d"\n');
    runningVersion(home, '1.2.0');
    // 10 days after publication: a machine whose share of the window ends before that installs,
    // one whose share ends after it waits (1d + 0.3 × 20d = 7d; 1d + 0.7 × 20d = 15d).
    const early = machineIdWhere((b) => b < 0.3);
    const late = machineIdWhere((b) => b > 0.7);
    const go = await checkJson(home, { HEPH_MACHINE_ID: early.id });
    expect(go.doc).toMatchObject({ candidate: '1.2.1', reason: null });
    const wait = await checkJson(home, { HEPH_MACHINE_ID: late.id });
    const eligibleAt = Date.parse(published) + DAY_MS + Math.floor(late.bucket * 20 * DAY_MS);
    expect(wait.doc).toMatchObject({
      candidate: null,
      available: false,
      reason: 'staged',
      blocked: '1.2.1',
      eligibleAt: new Date(eligibleAt).toISOString(),
    });
    const said = await human(['--exit-code'], { HEPH_MACHINE_ID: late.id });
    expect(said.exitCode).toBe(0);
    expect(said.stdout).toContain('1.2.1 is staged for this machine');
    expect(said.stdout).toContain(`eligible at ${new Date(eligibleAt).toISOString()}`);
  });

  it('no-asset: a release without the install.asset file is not a candidate; the template and npm decide', async () => {
    forge = await startForge({ kind });
    release(forge, '1.2.0');
    forge.publish({ tag: 'v1.2.1', assets: [{ name: 'heph-v1.2.1-linux.tar.gz', content: 'heph 1.2.1' }] });
    configure(home, forge);
    runningVersion(home, '1.2.0');
    const missing = await checkJson(home);
    expect(missing.doc).toMatchObject({
      latest: '1.2.1',
      candidate: null,
      reason: 'no-asset',
      blocked: '1.2.1',
      detail: '1.2.1 has no asset heph-1.2.1.tgz; check install.asset',
    });
    configure(home, forge, '[install]\nasset = "heph-{tag}-linux.tar.gz"\n');
    expect((await checkJson(home)).doc).toMatchObject({ candidate: '1.2.1', reason: null });
    // npm installs from the registry: the forge's assets do not matter.
    configure(home, forge, '[install]\nmethod = "npm"\nasset = "heph-{version}.tgz"\n');
    expect((await checkJson(home)).doc).toMatchObject({ candidate: '1.2.1', reason: null });
  });
});

describe('quarantine (gitlab)', () => {
  it('a version in the launcher quarantine is passed over for the next lower one, and alone is quarantined', async () => {
    forge = await startForge({ kind: 'gitlab' });
    for (const v of ['1.2.0', '1.2.1', '1.2.2']) release(forge, v);
    configure(home, forge);
    runningVersion(home, '1.2.0');
    const paths = resolvePaths(home.env);
    quarantineVersion(paths, '1.2.2', 'failed to start 3 times');
    expect((await checkJson(home)).doc).toMatchObject({ latest: '1.2.2', candidate: '1.2.1', reason: null });
    expect((await human([])).stdout).toContain('1.2.2 is quarantined (it failed to start)');

    quarantineVersion(paths, '1.2.1', 'failed to start 3 times');
    const stuck = await checkJson(home);
    expect(stuck.doc).toMatchObject({
      candidate: null,
      available: false,
      reason: 'quarantined',
      blocked: '1.2.2',
      release: { tag: 'v1.2.2' },
    });
  });
});

describe('pause and resume without a daemon (forgejo)', () => {
  it('update pause makes the candidate wait with reason paused; resume gives it back', async () => {
    forge = await startForge({ kind: 'forgejo' });
    release(forge, '1.2.0');
    release(forge, '1.2.1');
    configure(home, forge);
    runningVersion(home, '1.2.0');
    expect((await runHeph(['update', 'pause', '--for', '2h'], home.env)).exitCode).toBe(0);
    const paused = await checkJson(home);
    expect(paused.doc).toMatchObject({
      candidate: null,
      available: false,
      reason: 'paused',
      blocked: '1.2.1',
    });
    expect((await runHeph(['update', 'resume'], home.env)).exitCode).toBe(0);
    expect((await checkJson(home)).doc).toMatchObject({ candidate: '1.2.1', reason: null });
  });
});

describe('channel: a release the forge flags as prerelease under a plain version tag', () => {
  // GitHub and Gitea carry a prerelease flag; GitLab has none, so there only the tag can say so.
  const STABLE_CANDIDATE: Partial<Record<ForgeKindServed, string>> = {
    github: '1.2.1',
    gitea: '1.2.1',
    gitlab: '1.3.0',
  };
  it.each(Object.entries(STABLE_CANDIDATE))(
    '%s: stable takes %s; channel = "prerelease" takes 1.3.0',
    async (kind, stable) => {
      forge = await startForge({ kind: kind as ForgeKindServed });
      release(forge, '1.2.0');
      release(forge, '1.2.1');
      release(forge, '1.3.0', { prerelease: true });
      configure(home, forge);
      runningVersion(home, '1.2.0');
      expect((await checkJson(home)).doc).toMatchObject({ latest: stable, candidate: stable });
      configure(home, forge, '[update]\nchannel = "prerelease"\n');
      expect((await checkJson(home)).doc).toMatchObject({
        latest: '1.3.0',
        candidate: '1.3.0',
        release: { tag: 'v1.3.0', prerelease: kind !== 'gitlab' },
      });
    },
  );
});

/** 250 releases: 1.0.0 … 1.0.49, then 2.0.0 … 2.199.0 published after them (newest first: the majors). */
function publishHistory(f: TestForge): void {
  for (let i = 0; i < 50; i++) release(f, `1.0.${i}`);
  for (let i = 0; i < 200; i++) release(f, `2.${i}.0`);
}

/** The page numbers of the release-list requests since `from`, in order. */
function pagesAsked(f: TestForge, from: number): number[] {
  return f.requests
    .slice(from)
    .filter((r) => /\/releases(\?|$)|index\.json/.test(r.path))
    .map((r) => Number(new URL(r.path, 'http://x').searchParams.get('page') ?? '1'));
}

describe('250 releases over several pages', () => {
  // Pages of 100 (GitHub), 50 (Gitea's cap; GitLab as heph asks), the static index in one file.
  const PAGES: [ForgeKindServed, number[], number[]][] = [
    ['github', [1, 2, 3], [1]],
    // Gitea polls a small first page of 5 (no ETag), then full pages from the top.
    ['gitea', [1, 1, 2, 3, 4, 5], [1, 1, 2]],
    ['gitlab', [1, 2, 3, 4, 5], [1, 2]],
    ['static', [1], [1]],
  ];
  it.each(PAGES)(
    "%s: walks to the last page for a candidate there, and stops at the running version's own release",
    async (kind, all, some) => {
      forge = await startForge({ kind });
      publishHistory(forge);
      configure(home, forge);
      runningVersion(home, '1.0.0');
      // Pages full of majors come first; the candidate is on the last page.
      const deep = await checkJson(home);
      expect(deep.doc).toMatchObject({ latest: '2.199.0', candidate: '1.0.49', reason: null });
      expect(pagesAsked(forge, 0)).toEqual(all);

      // Running 2.100.0, the walk ends on the page holding 2.100.0's own release: everything
      // after it in the list (newest first) was published before it.
      runningVersion(home, '2.100.0');
      const seen = forge.requests.length;
      const shallow = await checkJson(home);
      expect(shallow.doc).toMatchObject({ current: '2.100.0', latest: '2.199.0', candidate: '2.199.0' });
      expect(pagesAsked(forge, seen)).toEqual(some);
    },
  );
});
