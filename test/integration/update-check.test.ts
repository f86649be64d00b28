// `heph update check` as a user runs it: the built CLI against the loopback forge of every kind,
// for mixes of patch/minor/major/prerelease/draft/non-semver tags, and the exit codes of docs/cli.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkJson, configure, release, runningVersion } from '../helpers/check-cli.js';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { type ForgeKindServed, startForge, type TestForge } from '../helpers/forge-server.js';

const KINDS: ForgeKindServed[] = ['github', 'gitea', 'forgejo', 'gitlab', 'static'];

let forge: TestForge | undefined;
let home: Scratch;
beforeEach(() => {
  home = scratch('heph-check-');
});
afterEach(async () => {
  await forge?.close();
  forge = undefined;
  home.cleanup();
});

/** Patch, minor, major, a prerelease, a draft and a non-semver tag around current 1.2.0. */
function publishMix(f: TestForge): void {
  release(f, '1.2.0');
  release(f, '1.2.1');
  release(f, '1.3.0');
  release(f, '2.0.0');
  release(f, '1.4.0-rc.1', { prerelease: true });
  release(f, '1.5.0', { draft: true });
  f.publish({ tag: 'nightly', assets: [{ name: 'heph-nightly.tgz', content: 'n' }] });
}

describe.each(KINDS)('heph update check against %s', (kind) => {
  it('takes the highest non-major release; drafts, prereleases and non-semver tags are left out', async () => {
    forge = await startForge({ kind });
    publishMix(forge);
    configure(home, forge);
    runningVersion(home, '1.2.0');
    const { exitCode, doc, stderr } = await checkJson(home);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(doc).toMatchObject({
      current: '1.2.0',
      latest: '2.0.0',
      candidate: '1.3.0',
      available: true,
      reason: null,
      release: { tag: 'v1.3.0', prerelease: false },
      forge: { kind, repo: 'acme/heph' },
    });
    expect(Date.parse(doc.checkedAt as string)).not.toBeNaN();
    const human = await runHeph(['update', 'check', '--exit-code'], home.env);
    expect(human.exitCode).toBe(10);
    expect(human.stdout).toContain('heph 1.3.0 is available (current 1.2.0)');
    expect(human.stdout).toContain('2.0.0 is a major upgrade; set update.allow_major = true to allow it');
  });

  it('says major-blocked (exit 0 with --exit-code) and takes a prerelease on the prerelease channel', async () => {
    forge = await startForge({ kind });
    release(forge, '1.2.0');
    release(forge, '2.0.0');
    release(forge, '1.3.0-rc.1', { prerelease: true });
    configure(home, forge);
    runningVersion(home, '1.2.0');
    const blocked = await runHeph(['update', 'check', '--exit-code'], home.env);
    expect(blocked.exitCode).toBe(0);
    expect(blocked.stdout).toContain('2.0.0 is a major upgrade; set update.allow_major = true to allow it');
    const { doc } = await checkJson(home, { HEPH_UPDATE_CHANNEL: 'prerelease' });
    expect(doc).toMatchObject({ candidate: '1.3.0-rc.1', latest: '2.0.0', release: { prerelease: true } });
  });
});

describe.each(KINDS)('malformed entries in the %s list', (kind) => {
  it('skips a release whose entry is malformed, with a warning naming it; the rest still decide', async () => {
    forge = await startForge({ kind });
    release(forge, '1.2.0');
    release(forge, '1.3.0');
    // A release without `assets` (seen from a real Gitea): newest in the list, and unreadable.
    forge.publish({ tag: 'v1.4.0', assets: [], omit: ['assets'] });
    configure(home, forge);
    runningVersion(home, '1.2.0');
    const { exitCode, doc, stderr } = await checkJson(home);
    expect(exitCode).toBe(0);
    expect(doc).toMatchObject({ candidate: '1.3.0', latest: '1.3.0', reason: null });
    expect(doc.skipped).toEqual([{ tag: 'v1.4.0', problem: expect.stringMatching(/ \(v1\.4\.0\): assets/) }]);
    expect(stderr).toMatch(/^heph: warning: skipped a malformed release: \S+ release 0 \(v1\.4\.0\): assets/);
  });
});

describe('heph update check: decisions and conditional requests', () => {
  it('says no-semver-tags, not up-to-date, when no tag in the list is a version', async () => {
    forge = await startForge({ kind: 'github' });
    for (const tag of ['nightly', '2026-05-01', 'release-7']) {
      forge.publish({ tag, assets: [{ name: 'heph.tgz', content: tag }] });
    }
    configure(home, forge);
    runningVersion(home, '1.2.0');
    const { exitCode, doc } = await checkJson(home);
    expect(exitCode).toBe(0);
    expect(doc).toMatchObject({ candidate: null, latest: null, available: false, reason: 'no-semver-tags' });
    expect(doc.detail).toBe(
      'none of the 3 release tags is a semver version ("2026-05-01", "nightly", "release-7") with ' +
        'forge.tag_prefix "v"; tag releases like v1.2.3 or set forge.tag_prefix',
    );
    const human = await runHeph(['update', 'check'], home.env);
    expect(human.stdout).toContain('no update to install: none of the 3 release tags is a semver version');
  });

  it('is up to date, works with update.mode = "off", and asks again with If-None-Match (304, no body)', async () => {
    forge = await startForge({ kind: 'github' });
    release(forge, '1.1.0');
    release(forge, '1.2.0');
    configure(home, forge, '[update]\nmode = "off"\n');
    runningVersion(home, '1.2.0');
    const first = await checkJson(home);
    expect(first.doc).toMatchObject({
      candidate: null,
      available: false,
      reason: 'up-to-date',
      fromCache: false,
    });
    const second = await checkJson(home);
    expect(second.doc).toMatchObject({ reason: 'up-to-date', fromCache: true, bodyBytes: 0, requests: 1 });
    const lists = forge.requests.filter((r) => r.path.startsWith('/repos/acme/heph/releases'));
    expect(lists).toHaveLength(2);
    expect(lists[0]!.headers['if-none-match']).toBeUndefined();
    expect(lists[1]!.headers['if-none-match']).toMatch(/^W\/"/);
    expect(lists[1]!.status).toBe(304);
    expect(lists[0]!.headers['user-agent']).toMatch(/^heph\//);
    expect(lists[0]!.headers['x-github-api-version']).toBe('2022-11-28');
  });

  it('reports too-young with the time it becomes eligible', async () => {
    forge = await startForge({ kind: 'gitlab' });
    release(forge, '1.2.0');
    release(forge, '1.2.1');
    configure(home, forge, '[update]\nmin_release_age = "3d"\n');
    runningVersion(home, '1.2.0');
    const { doc } = await checkJson(home);
    expect(doc).toMatchObject({ candidate: null, reason: 'too-young', blocked: '1.2.1' });
    expect(Date.parse(doc.eligibleAt as string)).toBeGreaterThan(Date.now() + 2 * 86_400_000);
    const human = await runHeph(['update', 'check'], home.env);
    expect(human.stdout).toMatch(/update\.min_release_age is 3d/);
    expect(human.stdout).toMatch(/eligible at \d{4}-/);
  });
});

describe('heph update check: failures and exit codes', () => {
  it('exits 69 when the forge answers 500', async () => {
    forge = await startForge({ kind: 'github' });
    configure(home, forge);
    forge.failNext({ kind: 'status', status: 500 });
    const r = await runHeph(['update', 'check', '--exit-code'], home.env);
    expect(r.exitCode).toBe(69);
    expect(r.stderr).toContain('github answered HTTP 500');
  });

  it('exits 69 on 429 and says until when, without waiting for it', async () => {
    forge = await startForge({ kind: 'gitea' });
    configure(home, forge);
    forge.failNext({ kind: 'status', status: 429, headers: { 'retry-after': '3600' } });
    const r = await runHeph(['update', 'check', '--json'], home.env);
    expect(r.exitCode).toBe(69);
    const err = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('E_FORGE_RATE_LIMITED');
    const until = /try again after (\S+)/.exec(err.message)?.[1];
    expect(Date.parse(until ?? '')).toBeGreaterThan(Date.now() + 3000_000);
  });

  it('exits 69 on a rate-limited 403 from GitHub (x-ratelimit-remaining: 0) and names the reset', async () => {
    forge = await startForge({ kind: 'github' });
    configure(home, forge);
    const reset = Math.floor(Date.now() / 1000) + 1800;
    forge.failNext({
      kind: 'status',
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
    });
    const r = await runHeph(['update', 'check'], home.env);
    expect(r.exitCode).toBe(69);
    expect(r.stderr).toContain(`try again after ${new Date(reset * 1000).toISOString()}`);
  });

  it('exits 77 on 401 with the private-repository hint', async () => {
    forge = await startForge({ kind: 'gitlab' });
    configure(home, forge);
    forge.requireToken('glpat-right-token');
    const r = await runHeph(['update', 'check'], home.env);
    expect(r.exitCode).toBe(77);
    expect(r.stderr).toContain(
      'a private repository needs a token: set HEPH_FORGE_TOKEN or forge.token_file',
    );
  });

  it('exits 78 on an invalid config and on a forge config missing what the kind needs', async () => {
    home.writeConfig('[update]\nmode = "sometimes"\n');
    const bad = await runHeph(['update', 'check'], home.env);
    expect(bad.exitCode).toBe(78);
    expect(bad.stderr).toContain('update.mode');
    home.writeConfig('[forge]\nkind = "gitea"\nrepo = "acme/heph"\n');
    const noUrl = await runHeph(['update', 'check', '--json'], home.env);
    expect(noUrl.exitCode).toBe(78);
    expect(JSON.parse(noUrl.stdout)).toMatchObject({ error: { code: 'E_CONFIG' } });
    expect(noUrl.stderr).toContain('forge.url: required for kind = "gitea"');
  });
});

describe('the token file', () => {
  it('forge.token_file is used, HEPH_FORGE_TOKEN beats it, and an unreadable one is exit 78', async () => {
    forge = await startForge({ kind: 'forgejo' });
    release(forge, '1.0.0');
    forge.requireToken('from-the-file-0001');
    writeFileSync(join(home.home, 'token'), 'from-the-file-0001\n', { mode: 0o600 });
    home.writeConfig(
      `[forge]\nkind = "forgejo"\nurl = "${forge.url}"\nrepo = "acme/heph"\ntoken_file = "~/token"\n`,
    );
    expect((await runHeph(['update', 'check'], home.env)).exitCode).toBe(0);
    const env = { ...home.env, HEPH_FORGE_TOKEN: 'from-the-env-0002' };
    expect((await runHeph(['update', 'check'], env)).exitCode).toBe(77);
    expect(forge.requests.map((r) => r.headers.authorization)).toEqual([
      'token from-the-file-0001',
      'token from-the-env-0002',
    ]);
    home.writeConfig(
      `[forge]\nkind = "forgejo"\nurl = "${forge.url}"\nrepo = "acme/heph"\ntoken_file = "~/missing"\n`,
    );
    const missing = await runHeph(['update', 'check'], home.env);
    expect(missing.exitCode).toBe(78);
    expect(missing.stderr).toContain(`forge.token_file: cannot read ${join(home.home, 'missing')} (ENOENT)`);
  });
});

describe.each(KINDS)('the token with %s', (kind) => {
  it("goes in the kind's header, and never to stdout or stderr (success or refusal)", async () => {
    const token = `tok-${kind}-0123456789abcdef`;
    forge = await startForge({ kind });
    release(forge, '1.2.0');
    release(forge, '1.2.1');
    configure(home, forge);
    runningVersion(home, '1.2.0');
    forge.requireToken(token);
    const env = { HEPH_FORGE_TOKEN: token, HEPH_LOG_LEVEL: 'debug' };
    const ok = await checkJson(home, env);
    expect(ok.exitCode).toBe(0);
    expect(ok.doc).toMatchObject({ candidate: '1.2.1' });
    const sent = forge.requests[0]!.headers;
    if (kind === 'gitlab') expect(sent['private-token']).toBe(token);
    else if (kind === 'gitea' || kind === 'forgejo') expect(sent.authorization).toBe(`token ${token}`);
    else expect(sent.authorization).toBe(`Bearer ${token}`);
    forge.requireToken('another-token-entirely');
    const refused = await runHeph(['update', 'check'], { ...home.env, ...env });
    expect(refused.exitCode).toBe(77);
    expect(refused.stderr).toContain('the token was refused');
    for (const out of [ok.stdout, ok.stderr, refused.stdout, refused.stderr])
      expect(out).not.toContain(token);
  });
});
