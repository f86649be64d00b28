// `npm run release`: npm-pack layout with the given version and no dependencies, a working
// bundle, SHA256SUMS that sha256sum itself accepts (lines added and replaced), a minisign
// signature both minisign and heph accept, and a working tree left exactly as it was.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyMinisign } from '../../src/install/minisign.js';
import { getArtifacts, sha256 } from '../helpers/artifacts.js';
import { DIST, ROOT } from '../helpers/cli.js';

let out: string;

function release(...args: string[]) {
  return execa('npm', ['run', '--silent', 'release', '--', ...args], {
    cwd: ROOT,
    reject: false,
    timeout: 120_000,
  });
}

/**
 * What a release could disturb: dist/ (the build's default output) and the project's top-level
 * entries. Not `git status`: other work in the same checkout may legitimately change meanwhile.
 */
function treeState(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(`${p} ${statSync(p).mtimeMs}\n`).update(readFileSync(p));
    }
  };
  walk(DIST);
  return `${readdirSync(ROOT)
    .filter((n) => n !== '.tmp')
    .sort()
    .join(' ')}\n${h.digest('hex')}`;
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'heph-release-test-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run release', () => {
  it('packs a prerelease in npm layout without touching the working tree', async () => {
    const before = treeState();
    const r = await release('--version', '2.0.0-rc.1', '--out', out);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(treeState()).toBe(before);

    const tgz = join(out, 'heph-2.0.0-rc.1.tgz');
    const entries: string[] = [];
    await tar.t({ file: tgz, onReadEntry: (e) => entries.push(e.path) });
    expect(entries.every((p) => p === 'package/' || p.startsWith('package/'))).toBe(true);
    expect(entries).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/dist/heph.mjs',
        'package/dist/hephd.mjs',
        'package/templates/launcher.mjs',
      ]),
    );

    const unpacked = mkdtempSync(join(out, 'x-'));
    await tar.x({ file: tgz, cwd: unpacked });
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'heph', version: '2.0.0-rc.1', bin: { heph: 'dist/heph.mjs' } });
    expect(pkg.dependencies).toBeUndefined();
    // self-contained: runs with no node_modules anywhere near it
    const v = execFileSync(process.execPath, [join(unpacked, 'package', 'dist', 'heph.mjs'), '--version'], {
      encoding: 'utf8',
      cwd: unpacked,
    });
    expect(v.trim()).toBe('2.0.0-rc.1');
    const help = execFileSync(process.execPath, [join(unpacked, 'package', 'dist', 'heph.mjs'), '--help'], {
      encoding: 'utf8',
    });
    expect(help).toContain('update');

    expect(readFileSync(join(out, 'SHA256SUMS'), 'utf8')).toBe(`${sha256(tgz)}  heph-2.0.0-rc.1.tgz\n`);
    execFileSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out, stdio: 'ignore' });
  });

  it('adds other files to SHA256SUMS and replaces a re-released one, and signs with minisign', async () => {
    const art = await getArtifacts();
    expect((await release('--version', '2.0.0', '--out', out)).exitCode).toBe(0);
    const r = await release('--version', '2.0.0-rc.1', '--out', out, '--sign', art.keys.a.sec);
    expect(r.exitCode, r.stderr).toBe(0);
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    expect(
      sums
        .trim()
        .split('\n')
        .map((l) => l.split('  ')[1]),
    ).toEqual(['heph-2.0.0.tgz', 'heph-2.0.0-rc.1.tgz']);
    execFileSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out, stdio: 'ignore' });

    const sig = readFileSync(join(out, 'SHA256SUMS.minisig'), 'utf8');
    execFileSync('minisign', ['-V', '-p', art.keys.a.pub, '-m', join(out, 'SHA256SUMS')], {
      stdio: 'ignore',
    });
    expect(verifyMinisign(Buffer.from(sums), sig, [art.keys.a.line]).trustedComment).toContain('2.0.0-rc.1');
    // A cold artifact cache builds five releases first (test/helpers/artifacts.ts).
  }, 240_000);

  it.each([
    [['--out', '/tmp/x'], 2, /--version is required/],
    [['--version', '1.0.0'], 2, /--out is required/],
    [['--version', '../1.0.0', '--out', '/tmp/x'], 1, /cannot be a version/],
  ])('refuses %j', async (args, code, message) => {
    const r = await release(...args);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});
