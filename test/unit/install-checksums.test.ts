// SHA256SUMS parsing and checks: strict lines, both sha256sum modes, listed or not, forge digest.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAgainstSums, checkForgeDigest, parseSums } from '../../src/install/checksums.js';
import { errorCode as code } from '../helpers/errors.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('parseSums', () => {
  it.each([
    ['text mode', `${A}  heph-1.0.0.tgz\n`, { 'heph-1.0.0.tgz': A }],
    ['binary mode', `${A} *heph-1.0.0.tgz\n`, { 'heph-1.0.0.tgz': A }],
    [
      'upper-case hex, CRLF, blank lines',
      `\r\n${A.toUpperCase()}  x.tgz\r\n\n${B}  y.tgz`,
      { 'x.tgz': A, 'y.tgz': B },
    ],
    ['the same line twice', `${A}  x\n${A}  x\n`, { x: A }],
  ])('reads %s', (_n, text, want) => {
    expect(Object.fromEntries(parseSums(text))).toEqual(want);
  });

  it.each([
    ['a short hash', `${'a'.repeat(63)}  x.tgz`],
    ['one space only', `${A} x.tgz`],
    ['no name', `${A}  `],
    ['garbage', 'hello world'],
    ['a name listed twice with two sums', `${A}  x\n${B}  x\n`],
  ])('refuses %s', (_n, text) => {
    expect(code(() => parseSums(text))).toBe('E_VERIFY');
  });

  it('round-trips any file name sha256sum can print on one line', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._+-][A-Za-z0-9 ._+-]{0,40}[A-Za-z0-9._+-]$/),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        (name, hex) => {
          expect(parseSums(`${hex}  ${name}\n`).get(name)).toBe(hex);
        },
      ),
    );
  });
});

describe('checks', () => {
  const sums = parseSums(`${A}  x.tgz\n`);
  it.each([
    ['a listed asset with its sum', () => checkAgainstSums(sums, 'x.tgz', A), 'ok'],
    ['a different sum', () => checkAgainstSums(sums, 'x.tgz', B), 'E_VERIFY'],
    ['an unlisted asset', () => checkAgainstSums(sums, 'y.tgz', A), 'E_VERIFY'],
    ['no forge digest', () => checkForgeDigest('x.tgz', null, A), 'ok'],
    ['a matching forge digest', () => checkForgeDigest('x.tgz', A.toUpperCase(), A), 'ok'],
    ['a wrong forge digest', () => checkForgeDigest('x.tgz', B, A), 'E_VERIFY'],
  ])('%s', (_n, fn, want) => {
    expect(code(fn)).toBe(want);
  });
});
