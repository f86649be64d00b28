// The store on a real temp folder: layout file, links, swap, rollback, pruning (keep counts
// current and previous), cleaning a crash's leftovers; plus splitting install.command.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandArgv, splitCommand } from '../../src/install/methods.js';
import {
  cleanStore,
  ensureStore,
  prune,
  readStore,
  rollbackStore,
  swapCurrent,
  TMP_PREFIX,
} from '../../src/install/store.js';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';

let home: string;
let paths: Paths;

function addVersion(v: string, complete = true): void {
  const dir = join(paths.store, v);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{}');
  if (complete) writeFileSync(join(dir, 'dist', 'heph.mjs'), ''); // the entry (paths.versionFiles)
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'heph-store-'));
  paths = resolvePaths({ HEPH_HOME: home });
  ensureStore(paths);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('store', () => {
  it('starts empty with the layout file written', () => {
    expect(readStore(paths)).toEqual({
      layout: 1,
      current: null,
      previous: null,
      versions: [],
      complete: {},
    });
  });

  it('refuses a store with an unknown layout', () => {
    writeFileSync(join(paths.store, '.layout'), '2\n');
    expect(() => readStore(paths)).toThrow(/layout 2/);
    expect(() => ensureStore(paths)).toThrow(/layout 2/);
  });

  it('swaps current and previous with relative links, and rolls back', () => {
    addVersion('1.0.0');
    addVersion('1.1.0');
    swapCurrent(paths, '1.0.0');
    expect(swapCurrent(paths, '1.1.0')).toEqual({ previous: '1.0.0' });
    expect(readlinkSync(join(paths.store, 'current'))).toBe('1.1.0');
    expect(readStore(paths)).toMatchObject({ current: '1.1.0', previous: '1.0.0' });
    expect(rollbackStore(paths)).toEqual({ from: '1.1.0', to: '1.0.0' });
    expect(readStore(paths)).toMatchObject({ current: '1.0.0', previous: '1.1.0' });
  });

  it('refuses to point current at an incomplete version, and rollback without previous', () => {
    addVersion('1.0.0', false);
    expect(() => swapCurrent(paths, '1.0.0')).toThrow(/not complete/);
    addVersion('1.1.0');
    swapCurrent(paths, '1.1.0');
    expect(() => rollbackStore(paths)).toThrow(/no previous version/);
  });

  it('cleans temp leftovers and incomplete folders but never what the links name', () => {
    addVersion('1.0.0');
    addVersion('1.1.0', false);
    swapCurrent(paths, '1.0.0');
    mkdirSync(join(paths.store, `${TMP_PREFIX}extract-1-aa`));
    writeFileSync(join(paths.store, `${TMP_PREFIX}download-1-bb`), 'partial');
    symlinkSync('1.0.0', join(paths.store, `${TMP_PREFIX}link-current-1-cc`));
    expect(cleanStore(paths).sort()).toEqual([
      '.tmp-download-1-bb',
      '.tmp-extract-1-aa',
      '.tmp-link-current-1-cc',
      '1.1.0',
    ]);
    expect(readStore(paths)).toMatchObject({ current: '1.0.0', versions: ['1.0.0'] });
  });

  it('prunes to keep versions, oldest first, never current or previous', () => {
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.10.0']) addVersion(v);
    swapCurrent(paths, '1.0.0');
    swapCurrent(paths, '1.1.0'); // current 1.1.0, previous 1.0.0: both old, both kept
    expect(prune(paths, 3)).toEqual(['1.2.0', '1.3.0']);
    expect(readStore(paths).versions).toEqual(['1.0.0', '1.1.0', '1.10.0']);
  });

  it('keeps current and previous even when keep is smaller (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 7 }), (keep, n) => {
        rmSync(paths.store, { recursive: true, force: true });
        ensureStore(paths);
        const vs = Array.from({ length: n }, (_, i) => `1.${i}.0`);
        for (const v of vs) addVersion(v);
        swapCurrent(paths, vs[0]!);
        swapCurrent(paths, vs[n - 1]!);
        prune(paths, keep);
        const s = readStore(paths);
        expect(s.versions).toContain(vs[0]);
        expect(s.versions).toContain(vs[n - 1]);
        expect(s.versions.length).toBe(Math.min(n, Math.max(keep, 2)));
        expect(existsSync(join(paths.store, 'current'))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

describe('install.command', () => {
  it.each([
    ['apt-get install -y heph={version}', ['apt-get', 'install', '-y', 'heph={version}']],
    [`sh -c 'curl -fsSL x | tar xz'`, ['sh', '-c', 'curl -fsSL x | tar xz']],
    [`echo "a b" c\\ d ''`, ['echo', 'a b', 'c d', '']],
    [`echo "say \\"hi\\""`, ['echo', 'say "hi"']],
  ])('splits %s', (text, argv) => {
    expect(splitCommand(text)).toEqual(argv);
  });

  it('refuses an unterminated quote', () => {
    expect(() => splitCommand(`sh -c 'oops`)).toThrow(/unterminated/);
  });

  it('substitutes placeholders inside words without re-splitting', () => {
    expect(
      commandArgv('brew install heph@{version} --tag={tag}', { version: '1.2.3', tag: 'v1.2.3' }),
    ).toEqual(['brew', 'install', 'heph@1.2.3', '--tag=v1.2.3']);
  });
});
