// SHA256SUMS: reading the `sha256sum` format strictly and checking a downloaded asset against it
// and against the forge's own digest (GitHub `digest`). Pure functions; the bundle method fetches.
import { HephError } from '../errors.js';

/** `<64 hex><two spaces or space-star><file name>`, as sha256sum writes in text or binary mode. */
const SUM_LINE = /^([0-9a-fA-F]{64}) [ *](\S(?:.*\S)?)$/;

/**
 * Every `name -> hex` in a SHA256SUMS file. A malformed line is refused rather than skipped: a
 * file that was cut or edited is not something to half-trust. The same name listed twice with
 * two different sums is refused too.
 */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = SUM_LINE.exec(line);
    if (!m) {
      // The line itself is not shown: a checksum file is not trusted text, and whatever it holds
      // (another file's first line, escape sequences) must not reach a terminal or the audit log.
      throw new HephError(
        'E_VERIFY',
        `SHA256SUMS line ${i + 1} is malformed: expected "<64 hex digits>  <file name>"`,
        {
          hint: 'the checksum file is damaged or was edited; ask the publisher to fix the release',
          details: { line: i + 1 },
        },
      );
    }
    const hex = m[1]!.toLowerCase();
    const name = m[2]!;
    const seen = out.get(name);
    if (seen !== undefined && seen !== hex) {
      throw new HephError('E_VERIFY', `SHA256SUMS lists ${JSON.stringify(name)} twice with different sums`, {
        hint: 'the checksum file is inconsistent; ask the publisher to fix the release',
      });
    }
    out.set(name, hex);
  }
  return out;
}

/** Throws E_VERIFY unless `actual` is the sum SHA256SUMS gives for `name`. */
export function checkAgainstSums(sums: Map<string, string>, name: string, actual: string): void {
  const expected = sums.get(name);
  if (expected === undefined) {
    throw new HephError('E_VERIFY', `SHA256SUMS does not list ${name}`, {
      hint: 'the release is incomplete; wait for the publisher to fix it, or install another version',
    });
  }
  if (expected !== actual.toLowerCase()) {
    throw new HephError('E_VERIFY', `${name}: SHA-256 ${actual} does not match SHA256SUMS (${expected})`, {
      hint: 'the download was altered or corrupted; nothing was installed. Try again later',
    });
  }
}

/** Throws E_VERIFY when the forge reports a digest (GitHub) and it differs from what arrived. */
export function checkForgeDigest(name: string, forgeSha256: string | null, actual: string): void {
  if (forgeSha256 === null) return;
  if (forgeSha256.toLowerCase() !== actual.toLowerCase()) {
    throw new HephError(
      'E_VERIFY',
      `${name}: SHA-256 ${actual} does not match the digest the forge reports (${forgeSha256})`,
      { hint: 'the download was altered or corrupted on the way; nothing was installed' },
    );
  }
}
