// A private, real systemd *system* manager (PID 1 of its own PID, mount, UTS and IPC namespaces)
// for the `--system` e2e, on machines where systemd is installed but is not PID 1 (TESTING.md).
// Plain JS beside user-manager.mjs, in the same style.
//
// The boot script hides from it everything that must not start or be touched (the host's units,
// generators, target wants, its journal) behind tmpfs mounts that exist in its mount namespace
// only, gives it its own cgroup subtree, and lets journald run (so `journalctl -u` works).
// /var/lib/heph, the system install's home, is a tmpfs inside too; outside it stays an empty
// folder (made once; never removed, since another run's namespace may be mounted on it).
// Commands reach the manager through `nsenter` into its namespaces; it is ended with
// `systemctl poweroff`, and only by the pids this module started.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LOG_TAIL_LINES,
  missingTool,
  POLL_MS,
  removeCgroups,
  run,
  SYSTEMD_BINARY,
  showUnit,
  sleep,
  stderrLog,
  tail,
  within,
} from './manager-common.mjs';

export { SYSTEMD_BINARY };

/** The system install's home (src/cli/daemon-service.ts SYSTEM_HEPH_HOME): private inside. */
export const SYSTEM_HEPH_HOME = '/var/lib/heph';
/** An idle machine boots it in about a second; 30 s covers a loaded 2-core CI box. */
const BOOT_TIMEOUT_MS = 30_000;
/** poweroff stops every unit (their own TimeoutStopSec, 20 s for hephd here) and exits. */
const POWEROFF_TIMEOUT_MS = 60_000;
/** A command inside that takes longer has met a hung manager. */
const COMMAND_TIMEOUT_MS = 120_000;
const TOOLS = ['systemctl', 'journalctl', 'mount', 'unshare', 'nsenter', 'setpriv'];
/** Hierarchies of the machine's hybrid cgroup setup (a pure v2 machine has only the root). */
const CGROUP_HIERARCHIES = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'];
/** The PATH every unit and command inside gets (the manager starts from `env -i`). */
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why a private system manager cannot be had here, or null when it can. */
export function systemManagerUnavailable() {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (unshare --pid --mount and mount need CAP_SYS_ADMIN)';
  if (!existsSync(SYSTEMD_BINARY)) return `${SYSTEMD_BINARY} is missing (apt-get install systemd)`;
  const missing = missingTool(TOOLS);
  if (missing) return `${missing} is not installed`;
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount', '--uts', '--ipc', 'true'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return `unshare --pid --mount does not work here: ${(probe.stderr ?? '').trim()}`;
  return null;
}

/**
 * The boot script of TESTING.md "A real systemd system manager"; $1 names the cgroup folder, $2
 * is the file that stands in for /dev/console (the manager's log).
 */
function bootScript() {
  return `#!/bin/sh
set -e
name=$1
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/system /run/lock /run/user
# the unit under test goes here; nothing of the host's
mount -t tmpfs -o mode=0755 tmpfs /etc/systemd/system
# no host wants (tmpfiles --remove would wipe /tmp; databases and gettys would start), no
# generators, and no writes into the host's journal
for d in /usr/lib/systemd/system/*.target.wants /usr/lib/systemd/system-generators /var/log/journal; do
  [ -d "$d" ] && mount -t tmpfs -o mode=0755 tmpfs "$d"
done
mkdir -p ${SYSTEM_HEPH_HOME}
mount -t tmpfs -o mode=0755 tmpfs ${SYSTEM_HEPH_HOME}
# PID 1 writes to the console: the scratch log file outside ($2)
mount --bind "$2" /dev/console
cat > /run/systemd/system/T.target <<'UNIT'
[Unit]
Description=heph test boot target
Wants=systemd-journald.socket systemd-journald.service
UNIT
for h in ${CGROUP_HIERARCHIES.join(' ')}; do
  if [ -f "$h/cgroup.procs" ]; then mkdir -p "$h/$name"; echo $$ > "$h/$name/cgroup.procs"; fi
done
exec env -i container=heph-test PATH=${PATH} LANG=C.UTF-8 ${SYSTEMD_BINARY} --system --unit=T.target --log-target=console --show-status=no
`;
}

/** The pid of `parent`'s first child, or null (the manager is the unshare process's child). */
function childOf(parent) {
  try {
    const first = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

/**
 * Boots a private system manager and waits until `systemctl is-system-running` says running
 * (or degraded). `label` names the scratch folder and the cgroup (`heph-<label>-<pid>`).
 */
export async function startSystemManager({ label = 'sys', log = stderrLog('system-manager') } = {}) {
  const root = mkdtempSync(join(tmpdir(), `heph-${label}-`));
  const cgroup = `heph-${label}-${process.pid}`;
  const cgroupDirs = CGROUP_HIERARCHIES.map((h) => join(h, cgroup));
  const script = join(root, 'boot.sh');
  writeFileSync(script, bootScript(), { mode: 0o755 });
  const logFile = join(root, 'manager.log');
  const out = openSync(logFile, 'a');
  // detached: a session of its own (setsid), so no terminal signal of ours reaches PID 1
  const proc = spawn(
    'unshare',
    [
      '--pid',
      '--fork',
      '--mount-proc',
      '--mount',
      '--uts',
      '--ipc',
      '--propagation',
      'private',
      script,
      cgroup,
      logFile,
    ],
    { stdio: ['ignore', out, out], detached: true, env: { PATH } },
  );
  closeSync(out);
  let exited = false;
  const gone = new Promise((r) => proc.once('exit', r)).then(() => {
    exited = true;
  });
  let pid = null;

  /** `file args` inside the manager's namespaces, as root or as `user` (setpriv keeps `env`). */
  const exec = (file, args = [], opts = {}) => {
    const as = opts.user
      ? ['setpriv', `--reuid=${opts.user}`, `--regid=${opts.group ?? opts.user}`, '--init-groups', '--']
      : [];
    return run('nsenter', ['-t', String(pid), '-m', '-p', '-u', '-i', '--', ...as, file, ...args], {
      env: { PATH, LANG: 'C.UTF-8', ...(opts.env ?? {}) },
      timeoutMs: opts.timeoutMs ?? COMMAND_TIMEOUT_MS,
      input: opts.input,
    });
  };
  const systemctl = (...args) => exec('systemctl', args);

  const stop = async () => {
    if (!exited && pid !== null) {
      await systemctl('poweroff', '--no-block');
      await within(gone, POWEROFF_TIMEOUT_MS);
      if (!exited) {
        log(`system manager pid ${pid} did not power off; killing it (its namespace goes with it)`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch (e) {
          if (e.code !== 'ESRCH') throw e;
        }
        await gone;
      }
    } else if (!exited) {
      proc.kill('SIGKILL');
      await gone;
    }
    removeCgroups(cgroupDirs, log);
  };

  const end = Date.now() + BOOT_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      removeCgroups(cgroupDirs, log);
      throw new Error(`the system manager exited at boot:\n${tail(logFile)}`);
    }
    pid ??= childOf(proc.pid);
    if (pid !== null) {
      const r = await systemctl('is-system-running');
      const state = r.stdout.trim();
      if (state === 'running' || state === 'degraded') break;
    }
    if (Date.now() > end) {
      await stop();
      throw new Error(`the system manager did not boot within ${BOOT_TIMEOUT_MS} ms:\n${tail(logFile)}`);
    }
    await sleep(POLL_MS);
  }
  log(`system manager pid ${pid} is up (${root})`);

  return {
    root,
    pid,
    logFile,
    exec,
    systemctl,
    /** A path as the manager sees it (its mount namespace), readable from outside. */
    inside: (path) => `/proc/${pid}/root${path}`,
    /** A unit's properties as a record (`systemctl show -p A,B unit`). */
    show: (unit, props) => showUnit(systemctl, unit, props),
    /** The unit's journal, last lines. */
    async journal(unit, lines = LOG_TAIL_LINES) {
      return (await exec('journalctl', ['-u', unit, '-n', String(lines), '--no-pager'])).stdout;
    },
    logTail: (lines = LOG_TAIL_LINES) => tail(logFile, lines),
    /** Powers the manager off (or kills it), removes its cgroups and, with `clean`, its scratch. */
    async stop({ clean = true } = {}) {
      await stop();
      if (clean) rmSync(root, { recursive: true, force: true });
    },
  };
}
