// `heph release index DIR` and the static release source it feeds: the built CLI writes the
// index, then heph reads it from a file:// folder and over loopback HTTP like any forge.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { HephError } from '../../src/errors.js';
import { createForgeClient } from '../../src/forge/index.js';
import { parseSums } from '../../src/install/checksums.js';
import { createDeps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { serveFolder } from '../helpers/artifacts.js';
import { runningVersion } from '../helpers/check-cli.js';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { sha256Hex } from '../helpers/forge-shapes.js';

let home: Scratch;
let dir: string;
beforeEach(() => {
  home = scratch('heph-index-');
  dir = join(home.home, 'releases');
  mkdirSync(dir);
});
afterEach(() => home.cleanup());

function releaseFolder(tag: string, files: Record<string, string>, mtime?: Date): void {
  mkdirSync(join(dir, tag), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, tag, name), text);
  if (mtime) utimesSync(join(dir, tag), mtime, mtime);
}

interface Index {
  releases: {
    tag: string;
    prerelease: boolean;
    publishedAt: string;
    notes: string;
    assets: { name: string; url: string; size: number }[];
  }[];
}
const readIndex = () => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Index;

describe('heph release index', () => {
  it('indexes release folders newest first, marks prereleases, skips what is not a release', async () => {
    const jan = new Date('2026-01-05T10:00:00Z');
    releaseFolder('v1.0.0', { 'heph-1.0.0.tgz': 'one', SHA256SUMS: 'sums' }, jan);
    releaseFolder('v1.1.0-rc.1', { 'heph-1.1.0-rc.1.tgz': 'rc' });
    releaseFolder('1.0.1', { 'heph-1.0.1.tgz': 'patch', '.DS_Store': 'x' });
    releaseFolder('nightly', { 'heph-nightly.tgz': 'n' });
    mkdirSync(join(dir, 'v0.9.0'));
    writeFileSync(join(dir, 'README.md'), 'not a release');
    const r = await runHeph(['release', 'index', dir], home.env);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`wrote ${join(dir, 'index.json')}: 3 releases (1 prerelease)`);
    expect(r.stderr).toContain('skipped nightly: not a semver tag');
    expect(r.stderr).toContain('skipped v0.9.0: no files');
    const index = readIndex();
    expect(index.releases.map((x) => [x.tag, x.prerelease])).toEqual([
      ['v1.1.0-rc.1', true],
      ['1.0.1', false],
      ['v1.0.0', false],
    ]);
    expect(index.releases[2]).toEqual({
      tag: 'v1.0.0',
      prerelease: false,
      publishedAt: jan.toISOString(),
      notes: '',
      assets: [
        { name: 'SHA256SUMS', url: 'v1.0.0/SHA256SUMS', size: 4 },
        { name: 'heph-1.0.0.tgz', url: 'v1.0.0/heph-1.0.0.tgz', size: 3 },
      ],
    });
    expect(statSync(join(dir, 'index.json')).mode & 0o777).toBe(0o644);
  });

  it('keeps publishedAt and notes of releases already indexed (a stable file)', async () => {
    releaseFolder('v1.0.0', { 'heph-1.0.0.tgz': 'one' });
    expect((await runHeph(['release', 'index', dir], home.env)).exitCode).toBe(0);
    const edited = readIndex();
    edited.releases[0]!.publishedAt = '2025-12-24T00:00:00.000Z';
    edited.releases[0]!.notes = 'first release';
    writeFileSync(join(dir, 'index.json'), JSON.stringify(edited));
    releaseFolder('v1.1.0', { 'heph-1.1.0.tgz': 'two' });
    const r = await runHeph(['release', 'index', dir, '--json'], home.env);
    expect(JSON.parse(r.stdout)).toMatchObject({
      releases: [{ tag: 'v1.1.0', prerelease: false, assets: 1 }, { tag: 'v1.0.0' }],
      skipped: [],
    });
    expect(readIndex().releases[1]).toMatchObject({
      publishedAt: '2025-12-24T00:00:00.000Z',
      notes: 'first release',
    });
  });

  it('refuses a foreign index.json (exit 78) and a missing folder', async () => {
    writeFileSync(join(dir, 'index.json'), '{"versions": []}');
    const foreign = await runHeph(['release', 'index', dir], home.env);
    expect(foreign.exitCode).toBe(78);
    expect(foreign.stderr).toContain(
      `${join(dir, 'index.json')} is not a heph release index: releases: expected array`,
    );
    const missing = await runHeph(['release', 'index', join(dir, 'nope')], home.env);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('cannot read the release folder');
  });
});

describe('the static release source', () => {
  beforeEach(async () => {
    releaseFolder('v1.0.0', { 'heph-1.0.0.tgz': 'one' });
    releaseFolder('v1.1.0', {
      'heph-1.1.0.tgz': 'two',
      SHA256SUMS: `${sha256Hex(Buffer.from('two'))}  heph-1.1.0.tgz\n`,
    });
    releaseFolder('v2.0.0-beta.1', { 'heph-2.0.0-beta.1.tgz': 'beta' });
    expect((await runHeph(['release', 'index', dir], home.env)).exitCode).toBe(0);
  });

  it('from a file:// folder: update check finds the candidate; downloads read the folder', async () => {
    const url = pathToFileURL(dir).href;
    home.writeConfig(`[forge]\nkind = "static"\nurl = "${url}"\n`);
    const r = await runHeph(['update', 'check', '--json'], home.env);
    expect(r.exitCode).toBe(0);
    // The built CLI runs as 0.1.0 here (no store): 1.x is a major upgrade on 0.x.
    expect(JSON.parse(r.stdout)).toMatchObject({
      current: '0.1.0',
      latest: '1.1.0',
      reason: 'major-blocked',
    });
    const config = configSchema.parse({ forge: { kind: 'static', url: `${url}/index.json` } });
    const env = { HEPH_HOME: home.home };
    const client = createForgeClient(config, createDeps({ env, paths: resolvePaths(env) }));
    const [v2, v11] = (await client.listReleases()).releases;
    expect(v2!.prerelease).toBe(true);
    expect(await client.fetchAssetText(v11!.assets.find((a) => a.name === 'SHA256SUMS')!, 1000)).toContain(
      'heph-1.1.0.tgz',
    );
    const got = await client.downloadAsset(
      v11!.assets.find((a) => a.name === 'heph-1.1.0.tgz')!,
      join(home.home, 'x'),
      {
        maxBytes: 100,
      },
    );
    expect(got).toEqual({ bytes: 3, sha256: sha256Hex(Buffer.from('two')) });
  });

  it('a file:// folder without an index: exit 69 naming the file', async () => {
    const missing = join(home.home, 'nowhere');
    home.writeConfig(`[forge]\nkind = "static"\nurl = "${pathToFileURL(missing).href}"\n`);
    const r = await runHeph(['update', 'check'], home.env);
    expect(r.exitCode).toBe(69);
    expect(r.stderr).toContain(`static: cannot read ${join(missing, 'index.json')} (ENOENT)`);
  });

  it('over loopback HTTP: the folder URL names the index, asset URLs resolve against it', async () => {
    const server = await serveFolder(dir);
    try {
      home.writeConfig(`[forge]\nkind = "static"\nurl = "${server.url}/"\n\n[update]\nallow_major = true\n`);
      const r = await runHeph(['update', 'check', '--json', '--exit-code'], home.env);
      expect(r.exitCode).toBe(10);
      expect(JSON.parse(r.stdout)).toMatchObject({
        candidate: '1.1.0',
        release: { tag: 'v1.1.0', url: `${server.url}/v1.1.0/` },
        forge: { kind: 'static' },
      });
      expect(server.requests).toEqual(['/index.json']);
    } finally {
      await server.close();
    }
  });
});

describe('a file:// index stays inside its own folder', () => {
  const SECRET = 'TOPSECRET first line of a file outside the release folder';
  const published = '2026-01-01T00:00:00Z';
  const asset = (name: string, url: string) => ({ name, url, size: 1 });

  beforeEach(() => {
    writeFileSync(join(home.home, 'secret.txt'), `${SECRET}\nmore\n`);
    releaseFolder('v0.2.0', { 'heph-0.2.0.tgz': 'two' });
    releaseFolder('v0.3.0', { 'heph-0.3.0.tgz': 'three' });
    // A planted link inside the folder that leads out of it.
    symlinkSync(join(home.home, 'secret.txt'), join(dir, 'v0.3.0', 'SHA256SUMS'));
    const index = {
      releases: [
        {
          tag: 'v0.4.0',
          publishedAt: published,
          assets: [asset('heph-0.4.0.tgz', 'file:///etc/passwd'), asset('SHA256SUMS', '../secret.txt')],
        },
        {
          tag: 'v0.3.0',
          publishedAt: published,
          assets: [
            asset('heph-0.3.0.tgz', 'v0.3.0/heph-0.3.0.tgz'),
            asset('SHA256SUMS', 'v0.3.0/SHA256SUMS'),
          ],
        },
        { tag: 'v0.2.0', publishedAt: published, assets: [asset('heph-0.2.0.tgz', 'v0.2.0/heph-0.2.0.tgz')] },
      ],
    };
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  });

  it('an asset URL outside the folder makes its release malformed (skipped); a link out is refused', async () => {
    const config = configSchema.parse({ forge: { kind: 'static', url: pathToFileURL(dir).href } });
    const env = { HEPH_HOME: home.home };
    const client = createForgeClient(config, createDeps({ env, paths: resolvePaths(env) }));
    const list = await client.listReleases();
    expect(list.releases.map((r) => r.tag)).toEqual(['v0.3.0', 'v0.2.0']);
    expect(list.skipped).toEqual([
      {
        index: 0,
        tag: 'v0.4.0',
        problem: "static release 0 (v0.4.0): assets.0: url: points outside the index's folder",
      },
    ]);
    const sums = list.releases[0]!.assets.find((a) => a.name === 'SHA256SUMS')!;
    const e = await client.fetchAssetText(sums, 1000).catch((x: unknown) => x as HephError);
    expect(e).toMatchObject({ code: 'E_FORGE_PAYLOAD' });
    expect((e as HephError).message).toBe(
      `static: ${join(dir, 'v0.3.0', 'SHA256SUMS')} leads outside the index's folder`,
    );
  });

  it("update apply never prints or audits a foreign file's first line", async () => {
    home.writeConfig(`[forge]\nkind = "static"\nurl = "${pathToFileURL(dir).href}"\n`);
    runningVersion(home, '0.2.0');
    const r = await runHeph(['update', 'apply', '--version', '0.3.0'], home.env);
    expect(r.exitCode).toBe(69);
    expect(r.stderr).toContain("SHA256SUMS leads outside the index's folder");
    expect(`${r.stdout}${r.stderr}`).not.toContain('TOPSECRET');
    const audit = join(resolvePaths(home.env).auditFile);
    expect(existsSync(audit) ? readFileSync(audit, 'utf8') : '').not.toContain('TOPSECRET');
  });
});

describe('SHA256SUMS errors never quote the file', () => {
  it('a malformed line is named by its number only', () => {
    const e = (() => {
      try {
        parseSums('root:x:0:0:root:/root:/bin/bash\n');
      } catch (x) {
        return x as HephError;
      }
      throw new Error('parseSums accepted a passwd line');
    })();
    expect(e.code).toBe('E_VERIFY');
    expect(e.message).toBe('SHA256SUMS line 1 is malformed: expected "<64 hex digits>  <file name>"');
  });
});
