// What a system service running as a named user needs from the files root made before the
// install: to read the config and forge.token_file, and to reach them and its data through the
// folders of the install's home. Planned as changes (a dry run prints them), each only as wide
// as needed: the service user's own group gets read (files) or search (folders), nobody else.
// The token's EnvironmentFile is read by systemd as root and stays root's 0600.
import { chmodSync, chownSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { HephError } from '../errors.js';
import { type Account, canAccess } from './accounts.js';

export interface FileFacts {
  uid: number;
  gid: number;
  /** Permission bits only (0o777). */
  mode: number;
  dir: boolean;
}

export interface AccessChange {
  path: string;
  /** What the service does with it. */
  need: 'read' | 'search';
  before: { gid: number; mode: number };
  after: { gid: number; mode: number };
}

export interface AccessPlan {
  changes: AccessChange[];
  /** Folders outside the install's home that the user cannot pass: reported, not changed. */
  blocked: string[];
}

/** `path` is `root` or inside it. */
function within(path: string, root: string): boolean {
  const r = relative(root, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r) && r.split(sep)[0] !== '..');
}

/** Every folder above `path`, outermost first, without `/`. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== dirname(d); d = dirname(d)) out.unshift(d);
  return out;
}

/** The change that lets `who` have `need` on a file, or null when it already has. */
export function accessChange(
  path: string,
  st: FileFacts,
  who: Account,
  need: 'read' | 'search',
): AccessChange | null {
  const bit = need === 'read' ? 4 : 1;
  if (canAccess(st, who, bit)) return null;
  // the owner keeps the file; the service's primary group gets the one bit it needs
  const gid = st.uid === who.uid ? st.gid : who.gids[0]!;
  const add = st.uid === who.uid ? bit << 6 : bit << 3;
  return { path, need, before: { gid: st.gid, mode: st.mode }, after: { gid, mode: st.mode | add } };
}

/**
 * What `who` needs to read `files` (config, token file) and to reach `folders` (data, state,
 * run): changes inside `home` (the install's HEPH_HOME), reports for folders outside it.
 */
export function planAccess(
  opts: { files: string[]; folders: string[]; home: string; who: Account },
  stat: (path: string) => FileFacts | null,
): AccessPlan {
  const changes: AccessChange[] = [];
  const blocked: string[] = [];
  const seen = new Set<string>();
  const consider = (path: string, need: 'read' | 'search') => {
    if (seen.has(path)) return;
    seen.add(path);
    const st = stat(path);
    if (st === null) return;
    const change = accessChange(path, st, opts.who, need);
    if (change === null) return;
    if (within(path, opts.home)) changes.push(change);
    else blocked.push(path);
  };
  for (const target of [...opts.files, ...opts.folders]) {
    for (const dir of ancestors(target)) consider(dir, 'search');
  }
  for (const f of opts.files) consider(f, 'read');
  return { changes, blocked };
}

export function statFacts(path: string): FileFacts | null {
  try {
    const st = statSync(path);
    return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777, dir: st.isDirectory() };
  } catch {
    return null;
  }
}

/** chgrp, then chmod: the new bit is never given to the old group. */
export function applyAccess(changes: AccessChange[]): void {
  for (const c of changes) {
    try {
      if (c.after.gid !== c.before.gid) chownSync(c.path, -1, c.after.gid);
      chmodSync(c.path, c.after.mode);
    } catch (e) {
      throw new HephError(
        'E_SERVICE',
        `cannot let the service's user ${c.need} ${c.path}: ${(e as Error).message}`,
        {
          hint: 'run the install as root',
        },
      );
    }
  }
}

/** "root:heph 0640" style, for plans and dry runs. */
export function describeChange(c: AccessChange, group: (gid: number) => string): string {
  const mode = (m: number) => `0${m.toString(8).padStart(3, '0')}`;
  return `${c.path}: group ${group(c.before.gid)} → ${group(c.after.gid)}, mode ${mode(c.before.mode)} → ${mode(c.after.mode)} (so the service can ${c.need} it)`;
}
