// minisign signatures made by the real minisign tool, verified by heph with node:crypto: both
// formats (prehashed ED, legacy Ed), key ids, key rotation, and every way a signature can lie.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdHex, parsePublicKey, verifyMinisign } from '../../src/install/minisign.js';
import { errorCode as code } from '../helpers/errors.js';

let dir: string;
const key = (name: string) => {
  execFileSync(
    'minisign',
    ['-G', '-W', '-f', '-p', join(dir, `${name}.pub`), '-s', join(dir, `${name}.key`)],
    {
      stdio: 'ignore',
    },
  );
  const pubFile = readFileSync(join(dir, `${name}.pub`), 'utf8');
  return { sec: join(dir, `${name}.key`), pubFile, line: pubFile.trim().split('\n')[1]!.trim() };
};
let a: ReturnType<typeof key>;
let b: ReturnType<typeof key>;
const message = 'aaaa  heph-1.0.0.tgz\n';

function sign(k: { sec: string }, legacy = false, comment = 'heph test'): string {
  const file = join(dir, `msg-${Math.random()}`);
  writeFileSync(file, message);
  const args = ['-S', '-s', k.sec, '-m', file, '-x', `${file}.minisig`, '-t', comment];
  if (legacy) args.push('-l');
  execFileSync('minisign', args, { stdio: 'ignore' });
  return readFileSync(`${file}.minisig`, 'utf8');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heph-minisign-'));
  a = key('a');
  b = key('b');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verifyMinisign', () => {
  it('accepts a prehashed (ED) signature by the configured key and returns its id', () => {
    const r = verifyMinisign(Buffer.from(message), sign(a), [a.line]);
    expect(a.pubFile).toContain(`minisign public key ${r.keyId}`);
    expect(r.trustedComment).toBe('heph test');
  });

  it('names key ids as the minisign tool does: little-endian upper-case hex, no leading zeros', () => {
    expect(keyIdHex(Buffer.from([0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]))).toBe('123456789ABCDEF');
    expect(keyIdHex(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0x10]))).toBe('1000000000000001');
    expect(keyIdHex(Buffer.alloc(8))).toBe('0');
  });

  it('accepts a legacy (Ed) signature', () => {
    expect(code(() => verifyMinisign(Buffer.from(message), sign(a, true), [a.line]))).toBe('ok');
  });

  it('accepts the whole .pub file as a key, and a second key after rotation', () => {
    expect(code(() => verifyMinisign(Buffer.from(message), sign(b), [a.pubFile, b.line]))).toBe('ok');
  });

  it('refuses a signature by a key that is not configured, naming the key id', () => {
    expect(() => verifyMinisign(Buffer.from(message), sign(b), [a.line])).toThrow(
      /not in install.public_keys/,
    );
  });

  it.each([
    ['a changed message', (s: string) => s, `${message}x`],
    [
      'a changed trusted comment',
      (s: string) => s.replace('trusted comment: heph test', 'trusted comment: evil'),
      message,
    ],
    ['a truncated file', (s: string) => s.split('\n').slice(0, 2).join('\n'), message],
    ['a flipped signature byte', (s: string) => flip(s, 1), message],
    ['a flipped global signature byte', (s: string) => flip(s, 3), message],
  ])('refuses %s', (_name, change, msg) => {
    expect(code(() => verifyMinisign(Buffer.from(msg), change(sign(a)), [a.line]))).toBe('E_VERIFY');
  });

  it('refuses an unreadable public key as a config error', () => {
    expect(code(() => parsePublicKey('RWQnotakey'))).toBe('E_CONFIG');
  });
});

function flip(sig: string, line: number): string {
  const lines = sig.split('\n');
  const raw = Buffer.from(lines[line]!, 'base64');
  raw[raw.length - 1]! ^= 1;
  lines[line] = raw.toString('base64');
  return lines.join('\n');
}
