// Reading a trusted root file (`install.trusted_root`): a Sigstore TrustedRoot JSON document, or
// the JSON lines `gh attestation trusted-root` prints (one root per line, merged here). Apart from
// trusted-root.ts so that `heph doctor` can check the file without loading the shipped root.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { HephError } from '../../errors.js';

/** A trusted root is tens of kilobytes; a bigger file is not one. */
export const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;
const MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.trustedroot+json';
const LISTS = ['tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities'] as const;

export type TrustedRootJson = Record<string, unknown> & { mediaType: string };

function bad(file: string, why: string): HephError {
  return new HephError('E_CONFIG', `install.trusted_root: ${file} ${why}`, {
    hint: 'point it at the output of `gh attestation trusted-root`, or remove the key to use the shipped root',
    details: { key: 'install.trusted_root', file, why },
  });
}

export function readCapped(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw bad(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw bad(file, 'is not a regular file');
    if (st.size > MAX_TRUSTED_ROOT_BYTES) throw bad(file, `is over ${MAX_TRUSTED_ROOT_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** One or more roots (a JSON document, or JSON lines) merged into one; `file` names errors. */
export function parseTrustedRoot(text: string, file: string): TrustedRootJson {
  let docs: unknown[];
  try {
    docs = [JSON.parse(text)];
  } catch {
    try {
      docs = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l));
    } catch {
      throw bad(file, 'is neither JSON nor JSON lines');
    }
  }
  if (docs.length === 0) throw bad(file, 'is empty');
  const merged: TrustedRootJson = { mediaType: '' };
  for (const l of LISTS) merged[l] = [];
  for (const d of docs) {
    const r = d as Record<string, unknown> | null;
    if (
      r === null ||
      typeof r !== 'object' ||
      typeof r.mediaType !== 'string' ||
      !r.mediaType.startsWith(MEDIA_TYPE_PREFIX)
    ) {
      throw bad(file, `is not a Sigstore trusted root (mediaType ${MEDIA_TYPE_PREFIX})`);
    }
    merged.mediaType ||= r.mediaType;
    for (const l of LISTS) {
      if (r[l] === undefined) continue;
      if (!Array.isArray(r[l])) throw bad(file, `has a "${l}" that is not a list`);
      (merged[l] as unknown[]).push(...(r[l] as unknown[]));
    }
  }
  if ((merged.certificateAuthorities as unknown[]).length === 0)
    throw bad(file, 'names no certificate authority');
  return merged;
}

/** The trusted root in `file` (an absolute path), or an E_CONFIG error naming it and what is wrong. */
export function readTrustedRootFile(file: string): TrustedRootJson {
  return parseTrustedRoot(readCapped(file), file);
}
