// A private systemd user manager for the e2e scenario (TESTING.md): runs inside `unshare -m`,
// hides a tmpfs /run/systemd/system marker in that namespace, gives the manager a scratch HOME
// and XDG folders, and is started and killed by pid. Talk to it only through `systemctl --user`.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export const SYSTEMD_BINARY = '/usr/lib/systemd/systemd';
/** The manager answers within a second on an idle machine; 20 s covers a loaded 2-core CI box. */
const MANAGER_READY_TIMEOUT_MS = 20_000;
/** After SIGTERM the manager stops its units (their own TimeoutStopSec) and exits. */
const MANAGER_EXIT_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function say(text: string): void {
  process.stderr.write(`e2e ${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

/**
 * Hierarchies systemd tracks units in: cgroup v1's name=systemd plus the hybrid unified tree, or
 * a pure v2 tree at the top. A user manager started from /init.scope takes "/" as its root, so
 * two managers (two test runs, or anyone else's) would share /app.slice/hephd.service and kill
 * each other's daemons; a private subtree per manager keeps them apart.
 */
const CGROUP_HIERARCHIES = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

function privateCgroups(name: string): string[] {
  const made: string[] = [];
  for (const root of CGROUP_HIERARCHIES) {
    if (!existsSync(join(root, 'cgroup.procs'))) continue; // not a cgroup hierarchy (e.g. the v1 tmpfs)
    const dir = join(root, name);
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch (e) {
      say(`cannot make ${dir} (${(e as Error).message}); the manager shares the root cgroup`);
    }
  }
  return made;
}

/** Removes a private subtree once its processes are gone (deepest folders first; rmdir only). */
function removeCgroups(dirs: string[]): void {
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch (err) {
      say(`cgroup ${dir} left behind: ${(err as Error).message}`);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
}

export interface UserManager {
  root: string;
  /** HOME, XDG_* and PATH for everything that should see this user's world. */
  env: Record<string, string>;
  pid: number;
  logFile: string;
  systemctl(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** `systemctl --user show -p …` as a record. */
  show(unit: string, props: string[]): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** Makes /run/systemd/system exist only inside this mount namespace (needs `unshare -m`). */
export function privateSystemdMarker(): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', '/run/systemd']);
  mkdirSync('/run/systemd/system', { recursive: true });
}

export async function startUserManager(pidFile?: string): Promise<UserManager> {
  const root = mkdtempSync(join(tmpdir(), 'heph-e2e-'));
  const env: Record<string, string> = {
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_RUNTIME_DIR: join(root, 'runtime'),
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
  };
  for (const k of ['HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME'])
    mkdirSync(env[k]!, { recursive: true });
  mkdirSync(env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  const logFile = join(root, 'manager.log');
  const out = openSync(logFile, 'a');
  const cgroups = privateCgroups(`heph-e2e-${process.pid}`);
  // a shell joins the private cgroups, then becomes the manager (exec keeps the pid)
  const proc: ChildProcess = spawn(
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
  const pid = proc.pid!;
  if (pidFile) writeFileSync(pidFile, `${pid}\n`); // the test kills it by pid if this driver dies
  let exited = false;
  proc.once('exit', () => {
    exited = true;
  });

  const systemctl = async (...args: string[]) => {
    const r = await execa('systemctl', ['--user', ...args], {
      env,
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  const end = Date.now() + MANAGER_READY_TIMEOUT_MS;
  for (;;) {
    if (exited)
      throw new Error(`the user manager exited at start:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    // any state (running, degraded, starting) means it answers on $XDG_RUNTIME_DIR/systemd/private
    const r = await systemctl('is-system-running');
    if (r.stdout.trim() !== '' && !/Failed to connect/i.test(r.stderr)) break;
    if (Date.now() > end)
      throw new Error(`the user manager did not answer within ${MANAGER_READY_TIMEOUT_MS} ms`);
    await sleep(100);
  }
  say(`user manager pid ${pid} is up (${root})`);

  return {
    root,
    env,
    pid,
    logFile,
    systemctl,
    async show(unit, props) {
      const r = await systemctl('show', '-p', props.join(','), unit);
      const outMap: Record<string, string> = {};
      for (const line of r.stdout.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) outMap[line.slice(0, i)] = line.slice(i + 1);
      }
      return outMap;
    },
    async stop() {
      if (!exited) {
        process.kill(pid, 'SIGTERM'); // a user manager stops its units and exits on SIGTERM
        const deadline = Date.now() + MANAGER_EXIT_TIMEOUT_MS;
        while (!exited && Date.now() < deadline) await sleep(100);
        if (!exited) {
          say(`user manager pid ${pid} ignored SIGTERM; killing it`);
          process.kill(pid, 'SIGKILL');
          while (!exited) await sleep(50);
        }
      }
      removeCgroups(cgroups);
    },
  };
}
