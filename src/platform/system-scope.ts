// What `--system` means for every command that reads or drives an install: the system install's
// files (SYSTEM_HEPH_HOME, or HEPH_HOME when set), and, for root, acting as the account that
// owns that install's data so nothing root writes there (state, caches, the store) is lost to
// the service (docs/operations.md, "A system service").
import { statSync } from 'node:fs';
import { type AppNames, envName, HEPH_NAMES } from '../app/identity.js';
import type { Env, Paths } from './paths.js';

/** Where heph's system service keeps everything when HEPH_HOME is not set: not root's home folder. */
export const SYSTEM_HEPH_HOME = '/var/lib/heph';

/** `/var/lib/<name>`: an app's system home (heph's is SYSTEM_HEPH_HOME). */
export function systemHome(app: AppNames = HEPH_NAMES): string {
  return `/var/lib/${app.name}`;
}

/** The environment a `--system` command resolves its paths with (`HEPH_HOME`, `ACME_HOME`, …). */
export function systemEnv(env: Env, app: AppNames = HEPH_NAMES): Env {
  const key = envName(app, 'HOME');
  return env[key] ? env : { ...env, [key]: systemHome(app) };
}

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * The owner root should act as in a system install: the owner of its data folder when that is
 * not root (a service installed with --user NAME), else null (a root service, or nothing there).
 */
export function installOwner(paths: Pick<Paths, 'data'>, uid: number): Owner | null {
  if (uid !== 0) return null;
  try {
    const st = statSync(paths.data);
    return st.uid === 0 ? null : { uid: st.uid, gid: st.gid };
  } catch {
    return null;
  }
}

/**
 * Becomes `owner` for the rest of this process (groups, then gid, then uid: the order that
 * still has the right to each step). Used by `update …` with --system as root, whose every
 * write lands in the service's own folders.
 */
export function becomeOwner(owner: Owner): void {
  process.setgroups?.([owner.gid]);
  process.setgid?.(owner.gid);
  process.setuid?.(owner.uid);
}
