// minisign signatures checked with node:crypto Ed25519, so verifying a release needs no binary.
// Both formats the minisign tool writes are read: legacy `Ed` and prehashed `ED` (BLAKE2b-512).
//
// A signature file has four lines: an untrusted comment, base64(alg[2] keyId[8] sig[64]), a
// trusted comment, and base64(globalSig[64]) where globalSig signs sig || trusted comment text.
// Both signatures are checked, so the trusted comment cannot be swapped either.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { HephError } from '../errors.js';

const KEY_ID_BYTES = 8;
const ED25519_PUBLIC_BYTES = 32;
const ED25519_SIG_BYTES = 64;
/** "Ed" + key id + public key. */
const PUBLIC_KEY_BYTES = 2 + KEY_ID_BYTES + ED25519_PUBLIC_BYTES;
/** Algorithm + key id + signature. */
const SIGNATURE_BYTES = 2 + KEY_ID_BYTES + ED25519_SIG_BYTES;
const TRUSTED_PREFIX = 'trusted comment: ';

export interface MinisignPublicKey {
  /** Hex of the 8-byte key id, as the minisign tool prints it (little-endian, upper case). */
  id: string;
  key: KeyObject;
}

export interface MinisignSignature {
  algorithm: 'Ed' | 'ED';
  id: string;
  signature: Buffer;
  trustedComment: string;
  globalSignature: Buffer;
}

/**
 * minisign prints key ids as the 64-bit little-endian number in upper-case hex, without leading
 * zeros (printf "%" PRIX64), so an id shown here reads exactly as in the key's own comment line.
 */
export function keyIdHex(bytes: Buffer): string {
  return Buffer.from(bytes)
    .reverse()
    .toString('hex')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
}

function decodeBase64Strict(text: string, what: string): Buffer {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) throw verifyError(`${what} is not base64`);
  return Buffer.from(t, 'base64');
}

function verifyError(message: string, hint?: string): HephError {
  return new HephError('E_VERIFY', message, {
    hint: hint ?? 'the release is not signed by a key in install.public_keys; do not install it',
  });
}

/**
 * A public key as written in `install.public_keys`: either the base64 line (`RWQ…`) or the whole
 * `.pub` file with its untrusted comment line.
 */
export function parsePublicKey(text: string): MinisignPublicKey {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('untrusted comment:'));
  if (lines.length !== 1) throw configKeyError('expected one base64 line');
  let raw: Buffer;
  try {
    raw = decodeBase64Strict(lines[0]!, 'public key');
  } catch {
    throw configKeyError('not base64');
  }
  if (raw.length !== PUBLIC_KEY_BYTES || raw.subarray(0, 2).toString('latin1') !== 'Ed') {
    throw configKeyError(`not a minisign Ed25519 public key (${raw.length} bytes)`);
  }
  const pk = raw.subarray(2 + KEY_ID_BYTES);
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') },
    format: 'jwk',
  });
  return { id: keyIdHex(raw.subarray(2, 2 + KEY_ID_BYTES)), key };
}

function configKeyError(why: string): HephError {
  return new HephError('E_CONFIG', `install.public_keys: a key cannot be read: ${why}`, {
    hint: 'paste the second line of the .pub file that `minisign -G` wrote (it starts with RW)',
    details: { key: 'install.public_keys' },
  });
}

export function parseSignature(text: string): MinisignSignature {
  const lines = text.split(/\r?\n/);
  // Line 0 is the untrusted comment: anyone can change it, so it is not read.
  const sigLine = lines[1];
  const trustedLine = lines[2];
  const globalLine = lines[3];
  if (sigLine === undefined || trustedLine === undefined || globalLine === undefined) {
    throw verifyError('SHA256SUMS.minisig is incomplete (expected 4 lines)');
  }
  const raw = decodeBase64Strict(sigLine, 'the signature');
  const algorithm = raw.subarray(0, 2).toString('latin1');
  if (raw.length !== SIGNATURE_BYTES || (algorithm !== 'Ed' && algorithm !== 'ED')) {
    throw verifyError(
      `SHA256SUMS.minisig: unsupported signature (algorithm "${algorithm}", ${raw.length} bytes)`,
    );
  }
  if (!trustedLine.startsWith(TRUSTED_PREFIX)) throw verifyError('SHA256SUMS.minisig has no trusted comment');
  const globalSignature = decodeBase64Strict(globalLine, 'the global signature');
  if (globalSignature.length !== ED25519_SIG_BYTES)
    throw verifyError('SHA256SUMS.minisig: bad global signature');
  return {
    algorithm,
    id: keyIdHex(raw.subarray(2, 2 + KEY_ID_BYTES)),
    signature: raw.subarray(2 + KEY_ID_BYTES),
    trustedComment: trustedLine.slice(TRUSTED_PREFIX.length),
    globalSignature,
  };
}

/**
 * Verifies `message` against a minisign signature made by one of `publicKeys` (several, so keys
 * can rotate). Returns the id of the key that signed and the trusted comment; throws E_VERIFY.
 */
export function verifyMinisign(
  message: Uint8Array,
  signatureText: string,
  publicKeys: readonly string[],
): { keyId: string; trustedComment: string } {
  const sig = parseSignature(signatureText);
  const keys = publicKeys.map(parsePublicKey);
  const key = keys.find((k) => k.id === sig.id);
  if (!key) {
    throw verifyError(
      `SHA256SUMS is signed with key ${sig.id}, which is not in install.public_keys (${keys.map((k) => k.id).join(', ') || 'none'})`,
      'if the project rotated its key, add the new public key to install.public_keys after checking it out of band',
    );
  }
  const signed = sig.algorithm === 'ED' ? createHash('blake2b512').update(message).digest() : message;
  if (!verify(null, signed, key.key, sig.signature)) {
    throw verifyError(`SHA256SUMS does not match its signature by key ${key.id}`);
  }
  const global = Buffer.concat([sig.signature, Buffer.from(sig.trustedComment, 'utf8')]);
  if (!verify(null, global, key.key, sig.globalSignature)) {
    throw verifyError(`the trusted comment of SHA256SUMS.minisig was altered (key ${key.id})`);
  }
  return { keyId: key.id, trustedComment: sig.trustedComment };
}
