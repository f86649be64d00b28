// A private, real systemd user manager for the demo, the e2e scenario and the self-update bench
// on machines where systemd is installed but is not PID 1 (TESTING.md). Plain JS: the demo runs it.
//
// It must run inside a private mount namespace (`unshare -m`): the tmpfs on /run/systemd and the
// /run/systemd/system marker are then visible to this process tree only, so nothing else on the
// machine believes systemd booted. Everything else lives in a scratch folder, and each manager
// gets its own cgroup subtree. It is started, and ended, by the pid it was given.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
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

/** The manager answers within a second on an idle machine; 20 s covers a loaded 2-core CI box. */
const MANAGER_READY_TIMEOUT_MS = 20_000;
/** After SIGTERM the manager stops its units (their own TimeoutStopSec) and exits. */
const MANAGER_EXIT_TIMEOUT_MS = 30_000;
/** A `systemctl --user` call that takes longer has met a hung manager. */
const SYSTEMCTL_TIMEOUT_MS = 60_000;
/** The tools the recipe runs; `unshare` only from outside the namespace. */
const TOOLS = ['systemctl', 'mount'];

/**
 * Hierarchies systemd tracks units in: cgroup v1's name=systemd plus the hybrid unified tree, or
 * a pure v2 tree at the top. A user manager started from /init.scope takes "/" as its root, so
 * two managers (two test runs, the demo, or anyone else's) would share /app.slice/hephd.service
 * and kill each other's daemons; a private subtree per manager keeps them apart.
 */
const CGROUP_HIERARCHIES = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

/**
 * Why a real user manager cannot be had here, or null when it can: Linux, root (for the mount
 * namespace), systemd's binary, systemctl and mount, and a working `unshare -m` (not checked
 * with `insideNamespace`, when the caller already runs in one).
 */
export function userManagerUnavailable({ insideNamespace = false } = {}) {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (unshare -m and mount need CAP_SYS_ADMIN)';
  if (!existsSync(SYSTEMD_BINARY)) return `${SYSTEMD_BINARY} is missing (apt-get install systemd)`;
  const missing = missingTool(insideNamespace ? TOOLS : [...TOOLS, 'unshare']);
  if (missing) return `${missing} is not installed`;
  if (!insideNamespace) {
    const probe = spawnSync('unshare', ['-m', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) return `unshare -m does not work here: ${(probe.stderr ?? '').trim()}`;
  }
  return null;
}

/** Makes /run/systemd/system exist only inside this mount namespace (call inside `unshare -m`). */
export function privateSystemdMarker() {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', '/run/systemd'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(
      `could not mount a tmpfs on /run/systemd (${(r.stderr ?? '').trim() || r.error?.message}): run this inside \`unshare -m\` as root`,
    );
  }
  mkdirSync('/run/systemd/system', { recursive: true });
}

/** HOME and the XDG folders of one scratch user under `root`, made (0700), as variables. */
export function scratchEnv(root) {
  const env = {
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_RUNTIME_DIR: join(root, 'runtime'),
  };
  for (const dir of Object.values(env)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return env;
}

function privateCgroups(name, log) {
  const made = [];
  for (const root of CGROUP_HIERARCHIES) {
    if (!existsSync(join(root, 'cgroup.procs'))) continue; // not a cgroup hierarchy (e.g. the v1 tmpfs)
    const dir = join(root, name);
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch (e) {
      log(`cannot make ${dir} (${e.message}); the manager shares the root cgroup`);
    }
  }
  return made;
}

/**
 * Starts `systemd --user` in its own cgroup subtree for a scratch user under `root` (a new temp
 * folder when not given). Call privateSystemdMarker() first. Options: `pidFile` receives the
 * manager's pid (so whoever started this process can end the manager if this process dies),
 * `label` names the temp folder and cgroup (`heph-<label>-…`), `log` takes diagnostics.
 */
export async function startUserManager({
  root,
  pidFile,
  label = 'e2e',
  log = stderrLog('user-manager'),
} = {}) {
  const home = root ?? mkdtempSync(join(tmpdir(), `heph-${label}-`));
  // A clean environment: the manager passes its own to every unit, and nothing of the caller's
  // (HEPH_* knobs, INVOCATION_ID) may leak into hephd.service.
  const env = {
    ...scratchEnv(home),
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
  };
  const logFile = join(home, 'manager.log');
  const out = openSync(logFile, 'a');
  const cgroups = privateCgroups(`heph-${label}-${process.pid}`, log);
  // a shell joins the private cgroups, then becomes the manager (exec keeps the pid)
  const proc = spawn(
    'sh',
    [
      '-c',
      `for d in "$@"; do echo $$ > "$d/cgroup.procs"; done; exec ${SYSTEMD_BINARY} --user --log-target=console --log-level=info`,
      'sh',
      ...cgroups,
    ],
    { env, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  const pid = proc.pid;
  if (pidFile) writeFileSync(pidFile, `${pid}\n`);
  let exited = false;
  const gone = new Promise((r) => proc.once('exit', r)).then(() => {
    exited = true;
  });

  /** Signals the manager by its pid; it may have exited since `exited` was read. */
  const signal = (sig) => {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if (e.code !== 'ESRCH') throw e;
    }
  };
  const systemctl = (...args) =>
    run('systemctl', ['--user', ...args], { env, timeoutMs: SYSTEMCTL_TIMEOUT_MS });

  const stop = async (units = []) => {
    if (!exited) {
      if (units.length) await systemctl('stop', ...units);
      signal('SIGTERM'); // a user manager stops its units and exits on SIGTERM
      await within(gone, MANAGER_EXIT_TIMEOUT_MS);
      if (!exited) {
        log(`user manager pid ${pid} ignored SIGTERM; killing it`);
        signal('SIGKILL');
        await gone;
      }
    }
    removeCgroups(cgroups, log);
  };

  const end = Date.now() + MANAGER_READY_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      removeCgroups(cgroups, log);
      throw new Error(`systemd --user exited at start:\n${tail(logFile)}`);
    }
    // any state (running, degraded, starting) means it answers on $XDG_RUNTIME_DIR/systemd/private
    const r = await systemctl('is-system-running');
    if (r.stdout.trim() !== '' && !/Failed to connect/i.test(r.stderr)) break;
    if (Date.now() > end) {
      await stop();
      throw new Error(
        `systemd --user did not answer within ${MANAGER_READY_TIMEOUT_MS} ms:\n${tail(logFile)}`,
      );
    }
    await sleep(POLL_MS);
  }
  log(`user manager pid ${pid} is up (${home})`);

  return {
    root: home,
    env,
    pid,
    logFile,
    systemctl,
    /** A unit's properties as a record (`systemctl --user show -p A,B unit`). */
    show: (unit, props) => showUnit(systemctl, unit, props),
    /** The last lines of the manager's log (units' output lands there: there is no journal). */
    logTail: (lines = LOG_TAIL_LINES) => tail(logFile, lines),
    stop,
  };
}
