// `heph release pack DIR --version X --out OUT [--sign KEY]` run as the built CLI on a real small
// app folder (package.json `files`, a .npmignore, a bundled dependency): the tarball holds what
// npm would pack and runs alone, SHA256SUMS passes `sha256sum -c`, the signature passes the real
// `minisign -V`, DIR is never changed, and every refused input leaves OUT as it was.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHephError } from '../../src/errors.js';
import { verifyMinisign } from '../../src/install/minisign.js';
import { packRelease } from '../../src/publish/pack.js';
import { cleanEnv, DIST, runHeph } from '../helpers/cli.js';

let root: string;
let app: string;
let key: { pub: string; sec: string; line: string };

/** The app the built heph packs: its package.json name must be heph (`heph release pack` packs heph). */
function makeApp(dir: string, pkg: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'greet'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'devtool'), { recursive: true });
  const manifest = {
    name: 'heph',
    version: '0.0.0-dev',
    files: ['dist/'],
    bin: { heph: 'dist/heph.mjs' },
    dependencies: { greet: '1.0.0' },
    devDependencies: { devtool: '1.0.0' },
    bundledDependencies: ['greet'],
    scripts: { prepack: 'echo ran > PREPACK_RAN' },
    ...pkg,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(dir, 'dist', 'heph.mjs'),
    [
      '#!/usr/bin/env node',
      "import { readFileSync } from 'node:fs';",
      "import greet from 'greet';",
      "const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));",
      'console.log(greet(pkg.version));',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'dist', 'heph.mjs.map'), '{}\n');
  writeFileSync(join(dir, 'dist', '.npmignore'), '*.map\n');
  writeFileSync(join(dir, 'dist', 'run.sh'), '#!/bin/sh\nexec node "$(dirname "$0")/heph.mjs"\n');
  chmodSync(join(dir, 'dist', 'run.sh'), 0o775);
  writeFileSync(join(dir, 'src', 'app.ts'), 'export {};\n');
  writeFileSync(join(dir, 'README.md'), '# a small app\n');
  writeFileSync(join(dir, 'notes.txt'), 'not in files\n');
  writeFileSync(
    join(dir, 'node_modules', 'greet', 'package.json'),
    '{"name":"greet","version":"1.0.0","main":"index.js"}\n',
  );
  writeFileSync(join(dir, 'node_modules', 'greet', 'index.js'), "module.exports = (v) => 'hello ' + v;\n");
  writeFileSync(
    join(dir, 'node_modules', 'devtool', 'package.json'),
    '{"name":"devtool","version":"1.0.0"}\n',
  );
  return dir;
}

/** Every path, mode, mtime and content under `dir`: any change shows. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    const st = lstatSync(p);
    h.update(`${p} ${st.mode} ${st.mtimeMs}\n`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else h.update(readFileSync(p));
  };
  walk(dir);
  return h.digest('hex');
}

/** A scratch HEPH_HOME: no state file of this machine can add an "update available" line. */
let env: Record<string, string>;
const heph = (args: string[]) => runHeph(args, env, { timeout: 60_000 });
const pack = (dir: string, version: string, out: string, ...more: string[]) =>
  heph(['release', 'pack', dir, '--version', version, '--out', out, ...more]);

/** Entries in archive order, as GNU tar lists them. */
const tarList = (tgz: string) => execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'heph-pack-test-'));
  env = { HEPH_HOME: join(root, 'home'), HOME: join(root, 'home') };
  app = makeApp(join(root, 'app'));
  execFileSync('minisign', ['-G', '-W', '-f', '-p', join(root, 'k.pub'), '-s', join(root, 'k.key')], {
    stdio: 'ignore',
  });
  key = {
    pub: join(root, 'k.pub'),
    sec: join(root, 'k.key'),
    line: readFileSync(join(root, 'k.pub'), 'utf8').trim().split('\n')[1]!.trim(),
  };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('heph release pack', () => {
  it('packs what npm would pack, at version X, in a tarball that runs alone', async () => {
    const before = treeHash(app);
    const out = join(root, 'out-a');
    const r = await pack(app, '1.2.3', out);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(treeHash(app)).toBe(before);
    expect(existsSync(join(app, 'PREPACK_RAN'))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', 'heph-1.2.3.tgz']);

    const tgz = join(out, 'heph-1.2.3.tgz');
    // `files`, dist/.npmignore (no map), README always, the bundled dependency, not the dev one.
    expect(tarList(tgz)).toEqual([
      'package/README.md',
      'package/dist/heph.mjs',
      'package/dist/run.sh',
      'package/node_modules/greet/index.js',
      'package/node_modules/greet/package.json',
      'package/package.json',
    ]);
    const long = execFileSync('tar', ['-tvzf', tgz], { encoding: 'utf8' });
    expect(long).toMatch(/^-rwxr-xr-x 0\/0 .* 1985-10-26 \d\d:\d\d package\/dist\/run\.sh$/m);
    expect(long).toMatch(/^-rw-r--r-- 0\/0 .* 1985-10-26 \d\d:\d\d package\/dist\/heph\.mjs$/m);

    const unpacked = mkdtempSync(join(root, 'x-'));
    execFileSync('tar', ['-xzf', tgz, '-C', unpacked]);
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'heph', version: '1.2.3', bundledDependencies: ['greet'] });
    // alone: no node_modules above the unpacked folder, only the bundled one inside it
    const run = execFileSync(process.execPath, [join(unpacked, 'package', 'dist', 'heph.mjs')], {
      encoding: 'utf8',
      cwd: unpacked,
    });
    expect(run.trim()).toBe('hello 1.2.3');

    expect(readFileSync(join(out, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}heph-1\.2\.3\.tgz\n$/);
    execFileSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out, stdio: 'ignore' });
  });

  it('installs with npm, offline: the bundled dependency travels inside', async () => {
    const out = join(root, 'out-npm');
    expect((await pack(app, '1.2.4', out)).exitCode).toBe(0);
    const consumer = mkdtempSync(join(root, 'consumer-'));
    writeFileSync(join(consumer, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
    await execa(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(out, 'heph-1.2.4.tgz')],
      { cwd: consumer, timeout: 120_000 },
    );
    const r = await execa(join(consumer, 'node_modules', '.bin', 'heph'), [], { cwd: consumer });
    expect(r.stdout.trim()).toBe('hello 1.2.4');
  });

  it('gives the same bytes twice, keeps other SHA256SUMS lines, and signs for minisign -V', async () => {
    const before = treeHash(app);
    const out = join(root, 'out-b');
    const again = join(root, 'out-b2');
    expect((await pack(app, '2.0.0', out)).exitCode).toBe(0);
    expect((await pack(app, '2.0.0', again)).exitCode).toBe(0);
    expect(readFileSync(join(again, 'heph-2.0.0.tgz'))).toEqual(readFileSync(join(out, 'heph-2.0.0.tgz')));

    const r = await pack(app, '2.1.0-rc.1', out, '--sign', key.sec, '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      name: 'heph',
      version: '2.1.0-rc.1',
      tarball: join(out, 'heph-2.1.0-rc.1.tgz'),
      sums: join(out, 'SHA256SUMS'),
      signature: join(out, 'SHA256SUMS.minisig'),
    });
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    expect(
      sums
        .trim()
        .split('\n')
        .map((l) => l.split('  ')[1]),
    ).toEqual(['heph-2.0.0.tgz', 'heph-2.1.0-rc.1.tgz']);
    execFileSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out, stdio: 'ignore' });
    execFileSync('minisign', ['-V', '-p', key.pub, '-m', join(out, 'SHA256SUMS')], { stdio: 'ignore' });
    const sig = readFileSync(join(out, 'SHA256SUMS.minisig'), 'utf8');
    expect(verifyMinisign(Buffer.from(sums), sig, [key.line]).trustedComment).toBe(
      'heph 2.1.0-rc.1 SHA256SUMS',
    );

    // Re-released unsigned: the old signature no longer matches SHA256SUMS, so it goes.
    const u = await pack(app, '2.0.0', out);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stderr).toContain('SHA256SUMS.minisig');
    expect(existsSync(join(out, 'SHA256SUMS.minisig'))).toBe(false);
    const after = readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(after.map((l) => l.split('  ')[1])).toEqual(['heph-2.1.0-rc.1.tgz', 'heph-2.0.0.tgz']);
    execFileSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out, stdio: 'ignore' });
    expect(treeHash(app)).toBe(before);
  });

  it.each([
    ['files: dist/', {}, ''],
    ['no files, out/ in .gitignore', { files: undefined, bin: 'dist/heph.mjs' }, 'out/\n'],
  ])('writes into a folder inside DIR that npm does not pack (%s)', async (_what, pkg, gitignore) => {
    const dir = makeApp(mkdtempSync(join(root, 'app-out-inside-')), pkg);
    if (gitignore) writeFileSync(join(dir, '.gitignore'), gitignore);
    const r = await pack(dir, '1.0.0', join(dir, 'out', 'v1.0.0'));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out', 'v1.0.0')).sort()).toEqual(['SHA256SUMS', 'heph-1.0.0.tgz']);
    expect(tarList(join(dir, 'out', 'v1.0.0', 'heph-1.0.0.tgz'))).toContain('package/dist/heph.mjs');
  });
});

describe('heph release pack refuses, with one line and nothing in OUT', () => {
  /** Each case: a folder (made fresh), extra arguments, the exit code and the line. */
  const cases: [string, (dir: string) => void, string[], number, RegExp][] = [
    [
      'a folder without package.json',
      (d) => rmSync(join(d, 'package.json')),
      [],
      1,
      /package\.json not found/,
    ],
    ['a version that is not semver', () => {}, ['--version', '1.2'], 2, /"1\.2" cannot be a version/],
    ['a tag instead of a version', () => {}, ['--version', 'v1.2.3'], 2, /"v1\.2\.3" cannot be a version/],
    [
      'an entry that was not built',
      (d) => rmSync(join(d, 'dist', 'heph.mjs')),
      [],
      1,
      /package\.json "bin\.heph" "dist\/heph\.mjs" does not exist/,
    ],
    [
      'a bin that was not built',
      (d) => makeApp(d, { bin: { heph: 'dist/heph.mjs', hephd: './dist/hephd.mjs' } }),
      [],
      1,
      /package\.json "bin\.hephd" "dist\/hephd\.mjs" does not exist/,
    ],
    [
      'a bundled dependency that is not installed',
      (d) => rmSync(join(d, 'node_modules', 'greet'), { recursive: true }),
      [],
      1,
      /bundledDependencies greet is not installed/,
    ],
    ['a signing key that is not there', () => {}, ['--sign', '/nonexistent/k.key'], 1, /no such key file/],
  ];

  it.each(cases)('%s', async (_what, spoil, extra, code, line) => {
    const dir = makeApp(mkdtempSync(join(root, 'bad-')));
    spoil(dir);
    const before = treeHash(dir);
    // An empty OUT stays empty; a missing one (two levels deep) is not created.
    const missing = join(mkdtempSync(join(root, 'missing-')), 'out');
    const empty = mkdtempSync(join(root, 'empty-out-'));
    const runs = await Promise.all(
      [empty, join(missing, 'v1.0.0')].map((out) =>
        heph(['release', 'pack', dir, '--version', '1.0.0', '--out', out, ...extra]),
      ),
    );
    for (const r of runs) {
      expect(r.exitCode, r.stderr).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(line);
    }
    expect(readdirSync(empty)).toEqual([]);
    expect(existsSync(missing)).toBe(false);
    expect(treeHash(dir)).toBe(before);
  });

  it('OUT equal to DIR', async () => {
    const dir = makeApp(mkdtempSync(join(root, 'bad-')));
    const before = treeHash(dir);
    const r = await pack(dir, '1.0.0', dir);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^heph: --out .* is the app's folder: give a folder outside it$/);
    expect(treeHash(dir)).toBe(before);
  });

  it.each([
    ['a folder npm packs (files: dist/)', 'dist/release', {}],
    ['any folder, when npm packs the whole app', 'out', { files: undefined, bin: 'dist/heph.mjs' }],
  ])('OUT inside %s', async (_what, rel, pkg) => {
    const dir = makeApp(mkdtempSync(join(root, 'bad-')), pkg);
    const before = treeHash(dir);
    const r = await pack(dir, '1.0.0', join(dir, rel));
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `is inside what the app packs \\(npm would pack ${rel}/heph-1\\.0\\.0\\.tgz once written\\)`,
      ),
    );
    expect(existsSync(join(dir, rel))).toBe(false);
    expect(treeHash(dir)).toBe(before);
  });

  it('OUT that already holds packed files', async () => {
    const dir = makeApp(mkdtempSync(join(root, 'bad-')));
    mkdirSync(join(dir, 'dist', 'old'));
    writeFileSync(join(dir, 'dist', 'old', 'heph-0.9.0.tgz'), 'x');
    const before = treeHash(dir);
    const r = await pack(dir, '1.0.0', join(dir, 'dist', 'old'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/npm would pack dist\/old\/heph-0\.9\.0\.tgz/);
    expect(treeHash(dir)).toBe(before);
  });

  it('a missing --out is a usage error', async () => {
    const r = await heph(['release', 'pack', app, '--version', '1.0.0']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--out/);
  });
});

describe('any app: `acme release pack` (defineApp) and packRelease', () => {
  it("an app's own command line packs that app, and only that app", async () => {
    const cli = join(root, 'acme-cli.mjs');
    writeFileSync(
      cli,
      [
        `import { defineApp } from ${JSON.stringify(pathToFileURL(join(DIST, 'index.mjs')).href)};`,
        "const app = defineApp({ name: 'acme', version: '0.0.1', entry: 'dist/acme.mjs' });",
        'process.exitCode = await app.main(process.argv.slice(2));',
        '',
      ].join('\n'),
    );
    const dir = makeApp(join(root, 'acme-app'), { name: 'acme', bin: { acme: 'dist/acme.mjs' } });
    cpSync(join(dir, 'dist', 'heph.mjs'), join(dir, 'dist', 'acme.mjs'));
    const before = treeHash(dir);
    const acme = (args: string[]) =>
      execa(process.execPath, [cli, 'release', 'pack', ...args], {
        env: cleanEnv({ ACME_HOME: join(root, 'acme-home') }),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: 60_000,
      });
    const out = join(root, 'out-acme-cli');
    const ok = await acme([dir, '--version', '1.0.0', '--out', out]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', 'acme-1.0.0.tgz']);
    expect(tarList(join(out, 'acme-1.0.0.tgz'))).toContain('package/dist/acme.mjs');
    expect(treeHash(dir)).toBe(before);

    const other = await acme([app, '--version', '1.0.1', '--out', out]);
    expect(other.exitCode).toBe(1);
    expect(other.stderr.trim()).toMatch(/^acme: .*names the package "heph", not "acme"/);
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', 'acme-1.0.0.tgz']);
  });

  it("takes the app's name and entry, or reads both from package.json", async () => {
    const dir = makeApp(join(root, 'acme'), {
      name: '@acme/acme',
      bin: { acme: 'dist/heph.mjs' },
      main: './dist/heph.mjs',
    });
    const before = treeHash(dir);
    const out = join(root, 'out-acme');
    const named = await packRelease({
      dir,
      version: '1.0.0',
      out,
      app: { name: 'acme', entry: 'dist/heph.mjs' },
    });
    expect(named.tarball).toBe(join(out, 'acme-1.0.0.tgz'));
    const bare = await packRelease({ dir, version: '1.0.0', out });
    expect(bare.tarball).toBe(join(out, 'acme-acme-1.0.0.tgz'));
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', 'acme-1.0.0.tgz', 'acme-acme-1.0.0.tgz']);

    const refused = await packRelease({
      dir,
      version: '1.0.1',
      out,
      app: { name: 'acme', entry: 'dist/acmed.mjs' },
    }).catch((e: unknown) => e);
    expect(isHephError(refused, 'E_PACK')).toBe(true);
    expect((refused as Error).message).toMatch(/the entry of acme "dist\/acmed\.mjs" does not exist/);
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', 'acme-1.0.0.tgz', 'acme-acme-1.0.0.tgz']);
    expect(treeHash(dir)).toBe(before);
    mkdirSync(join(dir, 'lib'), { recursive: true });
    writeFileSync(join(dir, 'lib', 'acme.mjs'), 'console.log(1);\n');
    const unpacked = await packRelease({
      dir,
      version: '1.0.1',
      out,
      app: { name: 'acme', entry: 'lib/acme.mjs' },
    }).catch((e: unknown) => e);
    expect((unpacked as Error).message).toMatch(
      /the entry of acme "lib\/acme\.mjs" is not among the files npm packs/,
    );
  });

  it('keeps build metadata in the version and the file name', async () => {
    const r = await packRelease({ dir: app, version: '1.0.0+linux.x64', out: join(root, 'out-build') });
    expect(r.tarball).toBe(join(root, 'out-build', 'heph-1.0.0+linux.x64.tgz'));
    execFileSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], {
      cwd: join(root, 'out-build'),
      stdio: 'ignore',
    });
  });

  it('copies nothing it was not asked to: a packed copy packs to the same bytes', async () => {
    // The tarball depends on the packed files only, not on where the folder is or what else is in it.
    const copy = join(root, 'copy');
    cpSync(app, copy, { recursive: true });
    writeFileSync(join(copy, 'notes.txt'), 'changed, but not packed\n');
    const a = await packRelease({ dir: app, version: '4.0.0', out: join(root, 'same-a') });
    const b = await packRelease({ dir: copy, version: '4.0.0', out: join(root, 'same-b') });
    expect(b.sha256).toBe(a.sha256);
  });
});
