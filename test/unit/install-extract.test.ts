// Safe extraction: the entry table (checkEntry) and whole archives written byte by byte, each
// refused as a whole with the bad entry named, and nothing left in the destination.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HephError, isHephError } from '../../src/errors.js';
import { checkEntry, extractRelease } from '../../src/install/extract.js';
import { type RawEntry, rawTarball } from '../helpers/artifacts.js';

function verdict(e: { path: string; type: string; linkpath?: string }): string {
  try {
    checkEntry(e);
    return 'ok';
  } catch (err) {
    return isHephError(err, 'E_UNSAFE_ARCHIVE') ? 'unsafe' : String(err);
  }
}

describe('checkEntry', () => {
  it.each([
    [{ path: 'package/', type: 'Directory' }, 'ok'],
    [{ path: 'package/dist/heph.mjs', type: 'File' }, 'ok'],
    [{ path: './package/dist/x', type: 'File' }, 'ok'],
    [{ path: 'package/a/link', type: 'SymbolicLink', linkpath: '../dist/heph.mjs' }, 'ok'],
    [{ path: 'package/a', type: 'Link', linkpath: 'package/dist/heph.mjs' }, 'ok'],
    [{ path: '/etc/passwd', type: 'File' }, 'unsafe'],
    [{ path: 'package/../../x', type: 'File' }, 'unsafe'],
    [{ path: '../package/x', type: 'File' }, 'unsafe'],
    [{ path: 'other/x', type: 'File' }, 'unsafe'],
    [{ path: 'C:\\x', type: 'File' }, 'unsafe'],
    [{ path: 'package/x', type: 'SymbolicLink', linkpath: '/etc/passwd' }, 'unsafe'],
    [{ path: 'package/x', type: 'SymbolicLink', linkpath: '../../etc/passwd' }, 'unsafe'],
    [{ path: 'package/x', type: 'SymbolicLink', linkpath: '..' }, 'unsafe'],
    [{ path: 'package/x', type: 'Link', linkpath: '../outside' }, 'unsafe'],
    [{ path: 'package/x', type: 'FIFO' }, 'unsafe'],
    [{ path: 'package/x', type: 'CharacterDevice' }, 'unsafe'],
    [{ path: 'package/x', type: 'BlockDevice' }, 'unsafe'],
  ])('%j -> %s', (entry, want) => {
    expect(verdict(entry)).toBe(want);
  });

  it('never accepts a path with a ".." segment, whatever surrounds it', () => {
    const seg = fc.stringMatching(/^[a-z.]{1,5}$/);
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 4 }), fc.array(seg, { maxLength: 4 }), (pre, post) => {
        expect(verdict({ path: ['package', ...pre, '..', ...post].join('/'), type: 'File' })).toBe('unsafe');
      }),
    );
  });
});

describe('extractRelease', () => {
  let dir: string;
  let dest: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heph-extract-'));
    dest = join(dir, 'out');
    mkdirSync(dest);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const good: RawEntry[] = [
    { path: 'package/', type: 'dir' },
    { path: 'package/package.json', body: '{"name":"heph"}' },
    { path: 'package/dist/', type: 'dir' },
    { path: 'package/dist/heph.mjs', body: 'console.log(1)' },
  ];

  it('extracts a clean archive with package/ stripped', async () => {
    rawTarball(join(dir, 'a.tgz'), good);
    await extractRelease(join(dir, 'a.tgz'), dest);
    expect(readFileSync(join(dest, 'dist', 'heph.mjs'), 'utf8')).toBe('console.log(1)');
  });

  it.each([
    ['a ".." path', { path: 'package/../../evil', body: 'x' }],
    ['an absolute path', { path: '/tmp/heph-evil-abs', body: 'x' }],
    ['a symlink escape', { path: 'package/dist/esc', type: 'symlink', linkpath: '../../../../etc' }],
    ['a fifo', { path: 'package/fifo', type: 'fifo' }],
  ] as [string, RawEntry][])('refuses %s as a whole, naming the entry, writing nothing', async (_n, bad) => {
    rawTarball(join(dir, 'b.tgz'), [...good, bad, { path: 'package/after.txt', body: 'y' }]);
    const err = await extractRelease(join(dir, 'b.tgz'), dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HephError);
    expect((err as HephError).code).toBe('E_UNSAFE_ARCHIVE');
    expect((err as HephError).message).toContain(bad.path);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('refuses a corrupt archive', async () => {
    rawTarball(join(dir, 'c.tgz'), good);
    const bytes = readFileSync(join(dir, 'c.tgz'));
    writeFileSync(join(dir, 'c.tgz'), bytes.subarray(0, bytes.length - 20));
    await expect(extractRelease(join(dir, 'c.tgz'), dest)).rejects.toMatchObject({
      code: 'E_UNSAFE_ARCHIVE',
    });
  });
});
