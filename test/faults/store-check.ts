// What the fault tests check after the storm: every version in the store is byte for byte the
// genuine release (never a tampered or truncated download), and the audit log as records.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { extractRelease } from '../../src/install/extract.js';
import { readStore } from '../../src/install/store.js';
import type { Paths } from '../../src/platform/paths.js';

/** SHA-256 of every regular file under `dir`, by path relative to it. */
export function treeHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else out.set(relative(dir, full), createHash('sha256').update(readFileSync(full)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/**
 * Every version folder in the store, compared with a fresh extraction of its genuine tarball.
 * Returns the versions found; a difference fails with the file that differs.
 */
export async function expectGenuineStore(paths: Paths, tarball: (v: string) => string): Promise<string[]> {
  const store = readStore(paths);
  for (const v of store.versions) {
    const ref = mkdtempSync(join(tmpdir(), `heph-genuine-${v}-`));
    try {
      await extractRelease(tarball(v), ref);
      const want = treeHashes(ref);
      const got = treeHashes(join(paths.store, v));
      for (const [file, hash] of want) {
        if (got.get(file) !== hash) throw new Error(`store ${v}/${file} differs from the genuine release`);
      }
      for (const file of got.keys()) {
        if (!want.has(file)) throw new Error(`store ${v}/${file} is not in the genuine release`);
      }
    } finally {
      rmSync(ref, { recursive: true, force: true });
    }
  }
  return store.versions;
}

export type AuditRecord = Record<string, unknown> & { event: string; version?: string };

/** audit.jsonl as records; every line must parse (a torn line is a failure of its own). */
export function readAudit(paths: Paths): AuditRecord[] {
  let text = '';
  try {
    text = readFileSync(paths.auditFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditRecord);
}
