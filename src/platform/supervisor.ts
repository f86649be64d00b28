// Who runs this process (systemd, launchd or nobody) and whether it runs in a container. Pure
// functions over the environment and a file prober, so the daemon and `heph doctor` share them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from './paths.js';

export type Supervisor = 'systemd' | 'launchd' | 'none';

/** Reads probe files; tests pass fakes, the daemon passes realProbe(). */
export interface Probe {
  read(path: string): string | undefined;
  exists(path: string): boolean;
}

/** Files that mark a container (Docker, Podman) by their mere existence. */
export const CONTAINER_MARKER_FILES = ['/.dockerenv', '/run/.containerenv'] as const;
/** Words in /proc/1/cgroup that name a container runtime (unreliable on cgroup v2, so one hint of several). */
const CONTAINER_CGROUP_WORDS = /docker|kubepods|containerd|libpod|lxc/;
export const SELF_CGROUP_FILE = '/proc/self/cgroup';
export const INIT_CGROUP_FILE = '/proc/1/cgroup';

/**
 * The real filesystem, optionally re-rooted: HEPH_DEV_PROBE_ROOT=DIR makes every probe read
 * DIR/proc/self/cgroup, DIR/.dockerenv, … instead, so tests can pose as a systemd service or a
 * container without being one (documented in docs/daemon.md).
 */
export function realProbe(env: Env): Probe {
  const root = env.HEPH_DEV_PROBE_ROOT;
  const at = (p: string) => (root ? join(root, p) : p);
  return {
    read(path) {
      try {
        return readFileSync(at(path), 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (path) => existsSync(at(path)),
  };
}

/**
 * True when the innermost cgroup of /proc/self/cgroup is a `.service` unit. A shell started from
 * a systemd unit's scope also inherits INVOCATION_ID, but lives in a `.scope`, and nobody
 * respawns it: exiting 0 there would simply stop the daemon.
 */
export function cgroupIsService(text: string | undefined): boolean {
  if (!text) return false;
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .some((line) => {
      // "hierarchy-id:controllers:/path"; the path may contain ':' only in theory
      const path = line.split(':').slice(2).join(':');
      const leaf = path.split('/').filter(Boolean).pop() ?? '';
      return leaf.endsWith('.service');
    });
}

/**
 * systemd when INVOCATION_ID is set and our cgroup is a service; launchd when XPC_SERVICE_NAME
 * is the app's job label (launchd sets it to the label of the job it started; a terminal has "0",
 * and a shell inside an app such as an editor has the app's label, where nobody respawns us);
 * else none.
 */
export function detectSupervisor(env: Env, probe: Probe, launchdLabels: readonly string[]): Supervisor {
  if (env.INVOCATION_ID && cgroupIsService(probe.read(SELF_CGROUP_FILE))) return 'systemd';
  const xpc = env.XPC_SERVICE_NAME;
  if (xpc && xpc !== '0' && launchdLabels.includes(xpc)) return 'launchd';
  return 'none';
}

/** The evidence that we run in a container (a file or variable), or null when there is none. */
export function detectContainer(env: Env, probe: Probe): string | null {
  for (const f of CONTAINER_MARKER_FILES) if (probe.exists(f)) return f;
  if (env.container) return `container=${env.container}`;
  const init = probe.read(INIT_CGROUP_FILE);
  if (init && CONTAINER_CGROUP_WORDS.test(init)) return INIT_CGROUP_FILE;
  return null;
}

/** Socket activation: systemd passes listening sockets from fd 3 when LISTEN_PID is us. */
export const LISTEN_FDS_START = 3;

export function activatedFd(env: Env, pid: number): number | null {
  if (env.LISTEN_PID !== String(pid)) return null;
  const n = Number(env.LISTEN_FDS);
  return Number.isInteger(n) && n >= 1 ? LISTEN_FDS_START : null;
}
