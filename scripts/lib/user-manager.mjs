// A private, real systemd user manager for the demo, tests and benchmarks on machines where
// systemd is installed but is not PID 1 (see ../shared/TESTING.md). Plain JS: the demo runs it.
//
// It must run inside a private mount namespace (`unshare -m`): the tmpfs on /run/systemd and the
// /run/systemd/system marker it creates are then visible to this process tree only, so nothing
// else on the machine believes systemd booted. Everything else lives in a scratch HOME.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SYSTEMD_BINARY = '/usr/lib/systemd/systemd';
/** The user manager answers `is-system-running` within a fraction of a second here; allow slack. */
const MANAGER_READY_TIMEOUT_MS = 15_000;
const POLL_MS = 100;

/**
 * Why a real user manager cannot be had here, or null when it can: root (for the mount
 * namespace), `unshare` and systemd's own binary. `insideNamespace` skips the unshare check.
 */
export function userManagerUnavailable({ insideNamespace = false } = {}) {
  if (process.platform !== 'linux') return `this is ${process.platform}, not Linux`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'a private systemd user manager needs root (for a private mount namespace)';
  if (!existsSync(SYSTEMD_BINARY)) return `${SYSTEMD_BINARY} is missing (apt-get install systemd)`;
  if (!insideNamespace && spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status !== 0)
    return '`unshare` is missing (apt-get install util-linux)';
  return null;
}

/** The scratch HOME and XDG folders of one user-manager session, as environment variables. */
export function scratchEnv(home) {
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_RUNTIME_DIR: join(home, 'run'),
  };
  for (const dir of Object.values(env)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return env;
}

function systemctl(env, args) {
  return spawnSync('systemctl', ['--user', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

/**
 * Starts `systemd --user` for the scratch `home` (call inside `unshare -m`). Returns its
 * environment, pid, log file, a `systemctl --user` runner and `stop()`, which stops the given
 * units and then ends the manager by the pid it started.
 */
export async function startUserManager(home) {
  if (spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', '/run/systemd']).status !== 0) {
    throw new Error('could not mount a tmpfs on /run/systemd: run this inside `unshare -m` as root');
  }
  mkdirSync('/run/systemd/system', { recursive: true });
  const env = scratchEnv(home);
  const log = join(home, 'systemd-user.log');
  const out = openSync(log, 'a');
  const child = spawn(SYSTEMD_BINARY, ['--user', '--log-target=console'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
    detached: false,
  });
  const deadline = Date.now() + MANAGER_READY_TIMEOUT_MS;
  while (systemctl(env, ['is-system-running']).stdout.trim() === '') {
    if (child.exitCode !== null) throw new Error(`systemd --user exited ${child.exitCode}:\n${tail(log)}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`systemd --user did not answer within ${MANAGER_READY_TIMEOUT_MS} ms:\n${tail(log)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return {
    env,
    pid: child.pid,
    log,
    systemctl: (...args) => systemctl(env, args),
    /** A unit's properties as an object (`systemctl --user show -p A,B unit`). */
    show(unit, props) {
      const r = systemctl(env, ['show', '-p', props.join(','), unit]);
      return Object.fromEntries(
        r.stdout
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    },
    async stop(units = []) {
      for (const u of units) systemctl(env, ['stop', u]);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
