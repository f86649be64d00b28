// Local accounts as /etc/passwd and /etc/group describe them: enough to judge who can read a
// token file and to hand a system service's folders to the user it runs as (no NSS, no addons).
import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HephError } from '../errors.js';
import { readTextIfExists } from '../platform/fs.js';

export const PASSWD_FILE = '/etc/passwd';
export const GROUP_FILE = '/etc/group';

export interface Account {
  name: string;
  uid: number;
  /** The primary group first, then supplementary groups. */
  gids: number[];
  home?: string;
  /** The primary group's name (SocketGroup=), when /etc/group names it. */
  group?: string;
}

/** Looks a user up in passwd and group text; null when the name is unknown. */
export function lookupAccount(name: string, passwd: string, group: string): Account | null {
  const row = passwd.split('\n').find((l) => l.split(':')[0] === name);
  if (!row) return null;
  const [, , uid, gid, , home] = row.split(':');
  const gids = [Number(gid)];
  for (const g of group.split('\n')) {
    const parts = g.split(':');
    const id = Number(parts[2]);
    if (parts[3]?.split(',').includes(name) && !gids.includes(id)) gids.push(id);
  }
  return { name, uid: Number(uid), gids, home, group: groupName(Number(gid), group) };
}

export function readAccount(name: string): Account | null {
  return lookupAccount(name, readTextIfExists(PASSWD_FILE) ?? '', readTextIfExists(GROUP_FILE) ?? '');
}

/** Whether `who` may read a file with this owner and mode (root reads everything). */
export function canRead(st: { uid: number; gid: number; mode: number }, who: Account): boolean {
  return canAccess(st, who, 4);
}

/** Whether `who` has `bit` (4 read, 2 write, 1 search) on a file: owner, then group, then others. */
export function canAccess(
  st: { uid: number; gid: number; mode: number },
  who: Account,
  bit: 4 | 2 | 1,
): boolean {
  if (who.uid === 0) return true;
  if (st.uid === who.uid) return (st.mode & (bit << 6)) !== 0;
  if (who.gids.includes(st.gid)) return (st.mode & (bit << 3)) !== 0;
  return (st.mode & bit) !== 0;
}

/** The name of a group id in group text, or undefined. */
export function groupName(gid: number, group: string): string | undefined {
  return group
    .split('\n')
    .find((l) => Number(l.split(':')[2]) === gid && l.split(':')[0] !== '')
    ?.split(':')[0];
}

/**
 * Gives a folder tree to `who` (symlinks themselves, never their targets), so a system service
 * running as that user can write the store and state that root created at install.
 */
export function chownTree(path: string, who: Account): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return; // not created (yet): nothing to hand over
  }
  try {
    lchownSync(path, who.uid, who.gids[0]!); // a link itself: `current` must not hand over its target twice
  } catch (e) {
    throw new HephError('E_SERVICE', `cannot give ${path} to ${who.name}: ${(e as Error).message}`, {
      hint: `run the install as root, or \`chown -R ${who.name} ${path}\` by hand`,
    });
  }
  if (st.isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), who);
}
