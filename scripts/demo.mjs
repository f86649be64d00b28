#!/usr/bin/env node
// `npm run demo`: a complete self-update cycle on this machine with no network. Builds heph
// 1.0.0 and 1.1.0 with the release script, serves them from a static release source on disk,
// installs 1.0.0 as a real service, publishes 1.1.0 and shows hephd find, verify, install and
// restart into it, then prints the audit trail and removes everything it made.
//
// Supervisor: a private real systemd user manager when this machine allows one (root, unshare,
// systemd installed; the demo re-runs itself inside `unshare -m`), otherwise none: hephd runs in
// the foreground and the demo restarts it when status asks (HEPH_DEMO_SUPERVISOR=none forces
// that path). Nothing outside a scratch folder under the system temp dir is touched.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tar from 'tar';
import {
  privateSystemdMarker,
  scratchEnv,
  startUserManager,
  userManagerUnavailable,
} from './lib/user-manager.mjs';
import { release } from './release.mjs';

const FROM = '1.0.0';
const TO = '1.1.0';
const UNIT = 'hephd.service';
/** Every scheduler delay × this: the 5-minute interval below becomes a poll every ~3 s. */
const SCHEDULE_SCALE = '0.01';
/** From publishing 1.1.0 to hephd serving it takes a few seconds here; past this something is wrong. */
const UPDATE_TIMEOUT_MS = 120_000;
const INSIDE = 'HEPH_DEMO_INSIDE_NAMESPACE';
const tty = process.stdout.isTTY;
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const ok = tty ? '\x1b[32m✓\x1b[0m' : 'ok';

// The steps of a self-update as the audit log and status show them, in order. Under a service
// manager hephd exits 0 and is started again; with none it waits for a restart (status says so).
const STEPS_FOUND = [
  ['update.available', `hephd found ${TO} in the release source`],
  ['update.installing', 'downloading and verifying (SHA-256 against SHA256SUMS)'],
  ['update.installed', 'installed into the versioned store; smoke test and readiness probe passed'],
];
const SUPERVISED_STEPS = [
  ...STEPS_FOUND,
  ['update.restarting', 'draining and exiting 0 for the service manager'],
  ['serving', `the service manager started it again: hephd ${TO} is serving`],
];
const UNSUPERVISED_STEPS = [
  ...STEPS_FOUND,
  ['pending', 'no supervisor will start it again: status asks for a restart (pendingRestart)'],
  ['serving', `restarted as status recommended: hephd ${TO} is serving`],
];

let step = 0;
const TOTAL_STEPS = 6;
function header(text) {
  step += 1;
  process.stdout.write(`\n${bold(`[${step}/${TOTAL_STEPS}]`)} ${text}\n`);
}
const say = (text) => process.stdout.write(`      ${text}\n`);

function progressBar(done, total, label) {
  const width = 24;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
}

/** Runs a heph CLI (`node <entry> …`) with the demo's environment; throws with its output on failure. */
function heph(entry, args, env, { allowFail = false } = {}) {
  const r = spawnSync(process.execPath, [entry, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 && !allowFail) {
    throw new Error(`heph ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  }
  return r;
}

function readAudit(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    })
    .filter(Boolean);
}

async function buildReleases(work) {
  header(`build heph ${FROM} and ${TO} with the release script (npm run release)`);
  const t0 = Date.now();
  const staged = join(work, 'staged');
  for (const v of [FROM, TO]) await release({ version: v, out: join(staged, `v${v}`) });
  say(`${ok} heph-${FROM}.tgz and heph-${TO}.tgz with SHA256SUMS ${dim(`(${Date.now() - t0} ms)`)}`);
  return staged;
}

/** Moves a built release into the release source and rewrites index.json with `heph release index`. */
function publish(staged, source, version, hephEntry, env) {
  renameSync(join(staged, `v${version}`), join(source, `v${version}`));
  heph(hephEntry, ['release', 'index', source], env);
}

function writeConfig(env, source) {
  const file = join(env.XDG_CONFIG_HOME, 'heph', 'config.toml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `# written by npm run demo
[update]
mode = "auto"
interval = "5m"          # × HEPH_DEV_SCHEDULE_SCALE=${SCHEDULE_SCALE}: a check every ~3 s

[forge]
kind = "static"
url = "${pathToFileURL(source).href}/"
repo = "demo/heph"

[install]
allow_in_container = true   # demo machines are often containers; a real install decides this

[restart]
cooldown = "0s"
health_grace = "5s"
`,
  );
  return file;
}

/**
 * Polls status and the audit log, printing each of `steps` once, until TO serves. `probe()`
 * returns {serving, pending}; `onPending()` runs once when hephd waits for a restart.
 */
async function watchUpdate(auditFile, steps, probe, onPending = async () => {}) {
  const seen = new Set();
  const start = Date.now();
  let line = '';
  const draw = (label) => {
    if (!tty) return;
    line = progressBar(seen.size, steps.length, label);
    process.stdout.write(`\r      ${line}`);
  };
  const clear = () => {
    if (tty && line) process.stdout.write(`\r${' '.repeat(line.length + 6)}\r`);
  };
  while (Date.now() - start < UPDATE_TIMEOUT_MS) {
    // Status first: during the restart it waits (the client's restart grace), and the audit
    // read after it then holds every step that happened meanwhile.
    const { serving, pending } = await probe();
    const probedAt = Date.now();
    const events = readAudit(auditFile).filter((e) => e.version === TO);
    // When each step happened (the audit's own time), so steps seen in one poll still show their order.
    const done = new Map(events.map((e) => [e.event, Date.parse(e.time)]));
    if (serving) done.set('serving', probedAt);
    if (pending) done.set('pending', probedAt);
    const failed = events.find((e) => e.event === 'update.failed');
    const blocked = events.find((e) => e.event === 'update.blocked');
    if (blocked) throw new Error(`hephd did not install ${TO}: blocked (${blocked.reason})`);
    for (const [key, text] of steps) {
      if (done.has(key) && !seen.has(key)) {
        seen.add(key);
        clear();
        say(`${ok} ${text} ${dim(`(+${((done.get(key) - start) / 1000).toFixed(1)} s)`)}`);
        if (key === 'pending') await onPending();
      }
    }
    if (failed) throw new Error(`hephd could not install ${TO}: ${failed.error}`);
    if (seen.has('serving')) return Date.now() - start;
    draw(`${((Date.now() - start) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  clear();
  throw new Error(`hephd did not update to ${TO} within ${UPDATE_TIMEOUT_MS / 1000} s`);
}

function statusJson(hephEntry, env) {
  const r = heph(hephEntry, ['status', '--json'], env, { allowFail: true });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { running: false };
  }
}

function printHistory(hephEntry, env) {
  header('the audit trail (`heph update history`)');
  const r = heph(hephEntry, ['update', 'history'], env, { allowFail: true });
  for (const l of r.stdout.trimEnd().split('\n')) say(l);
}

/**
 * The environment every heph of the demo runs with: the scratch user's HOME and XDG folders, a
 * fast schedule, and nothing of the caller's that would point heph elsewhere (HEPH_HOME,
 * HEPH_CONFIG) or make it believe it runs under a supervisor (INVOCATION_ID, XPC_SERVICE_NAME,
 * LISTEN_FDS, LISTEN_PID).
 */
function demoEnv(scratch) {
  const env = { ...process.env, ...scratch, HEPH_DEV_SCHEDULE_SCALE: SCHEDULE_SCALE, NO_COLOR: '1' };
  for (const k of [
    'HEPH_HOME',
    'HEPH_CONFIG',
    'INVOCATION_ID',
    'XPC_SERVICE_NAME',
    'LISTEN_FDS',
    'LISTEN_PID',
  ])
    delete env[k];
  return env;
}

/**
 * What both supervisor paths do before installing: publish FROM in a static release source on
 * disk, write the config, and unpack FROM's tarball as a user would have downloaded it. Returns
 * the release source, the downloaded heph and where the installed one will be.
 */
async function setUp(work, staged, env, installedAs) {
  header(`publish ${FROM} in a static release source and install it ${installedAs}`);
  const source = join(work, 'releases');
  mkdirSync(source);
  const unpacked = join(work, 'downloaded');
  mkdirSync(unpacked);
  await tar.x({ file: join(staged, `v${FROM}`, `heph-${FROM}.tgz`), cwd: unpacked });
  const downloaded = join(unpacked, 'package', 'dist', 'heph.mjs');
  publish(staged, source, FROM, downloaded, env);
  say(`${ok} release source ${pathToFileURL(source).href}/index.json`);
  const config = writeConfig(env, source);
  say(`${ok} config ${config} (update.mode = "auto")`);
  const current = join(env.XDG_DATA_HOME, 'heph', 'versions', 'current', 'dist', 'heph.mjs');
  return { source, downloaded, current };
}

/** Publishes TO and watches hephd take it (see watchUpdate); how long that took. */
async function publishAndWatch(staged, source, current, env, watch) {
  header(`publish ${TO}`);
  publish(staged, source, TO, current, env);
  say(`${ok} index.json now lists ${FROM} and ${TO}`);
  header(`watch hephd update itself (it polls every ~3 s in this demo)`);
  return watch(join(env.XDG_STATE_HOME, 'heph', 'audit.jsonl'));
}

/** The last two steps: what status says, and the audit trail. */
function report(current, env) {
  header(`what heph says now`);
  const st = statusJson(current, env);
  say(
    `version ${st.version}, supervisor ${st.supervisor}, mode ${st.mode}, candidate ${st.update?.candidate ?? 'none'}`,
  );
  printHistory(current, env);
}

/** The demo under a private real systemd user manager (we are inside `unshare -m`). */
async function underSystemd(work) {
  const staged = await buildReleases(work);
  privateSystemdMarker();
  const manager = await startUserManager({
    root: join(work, 'home'),
    label: 'demo',
    log: (text) => say(dim(text)),
  });
  const env = demoEnv(manager.env);
  try {
    const { source, downloaded, current } = await setUp(work, staged, env, 'as a systemd user service');
    const inst = heph(downloaded, ['daemon', 'install'], env);
    for (const l of inst.stdout.trimEnd().split('\n')) say(dim(l));
    const before = await waitFor(() => statusJson(current, env).version === FROM, 30_000);
    if (!before)
      throw new Error(`hephd ${FROM} did not start:\n${(await manager.systemctl('status', UNIT)).stdout}`);
    const s = await manager.show(UNIT, ['ActiveState', 'MainPID', 'NRestarts']);
    say(`${ok} ${UNIT} ${s.ActiveState}, pid ${s.MainPID}, hephd ${FROM} answering on its control socket`);

    const took = await publishAndWatch(staged, source, current, env, (auditFile) =>
      watchUpdate(auditFile, SUPERVISED_STEPS, async () => ({
        serving: statusJson(current, env).version === TO,
      })),
    );
    const after = await manager.show(UNIT, ['ActiveState', 'MainPID', 'NRestarts']);
    say(
      `${ok} ${UNIT} ${after.ActiveState}, pid ${after.MainPID}, NRestarts=${after.NRestarts} ${dim(`(${(took / 1000).toFixed(1)} s from publish)`)}`,
    );
    report(current, env);
  } finally {
    await manager.stop([UNIT]);
  }
}

/**
 * The demo without a service manager: `heph daemon install --manager none` puts 1.0.0 in the
 * store and names the command a supervisor should run; the demo runs it. hephd sees no
 * supervisor, so after installing 1.1.0 it does not exit: status reports a pending restart, and
 * the demo restarts it as `recommendedAction` says — what an operator (or runit, s6, …) would do.
 */
async function underNoManager(work, why) {
  process.stdout.write(
    `${dim(`supervisor: none (${why});`)}\n${dim('hephd runs in the foreground and the demo restarts it when status asks.')}\n`,
  );
  const staged = await buildReleases(work);
  const env = demoEnv(scratchEnv(join(work, 'home')));
  let child = null;
  const log = join(work, 'hephd.log');
  const startDaemon = (command) => {
    child = spawn(command[0], command.slice(1), {
      env,
      stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
    });
  };
  const stopDaemon = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 40_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    const { source, downloaded, current } = await setUp(work, staged, env, 'into the store');
    const inst = heph(downloaded, ['daemon', 'install', '--manager', 'none', '--json'], env);
    const { command } = JSON.parse(inst.stdout);
    say(
      `${ok} \`heph daemon install --manager none\`: store and launcher; supervisor command: ${command.join(' ')}`,
    );
    startDaemon(command);
    if (!(await waitFor(() => statusJson(current, env).version === FROM, 30_000)))
      throw new Error(`hephd ${FROM} did not start; its log:\n${readFileSync(log, 'utf8')}`);
    say(`${ok} hephd ${FROM} running (pid ${child.pid}) and answering on its control socket`);

    const took = await publishAndWatch(staged, source, current, env, (auditFile) =>
      watchUpdate(
        auditFile,
        UNSUPERVISED_STEPS,
        async () => {
          const st = statusJson(current, env);
          return { serving: st.version === TO, pending: st.pendingRestart === TO };
        },
        async () => {
          say(
            dim(`status.recommendedAction: ${statusJson(current, env).guard?.recommendedAction ?? '(none)'}`),
          );
          await stopDaemon();
          startDaemon(command);
        },
      ),
    );
    say(`${ok} ${dim(`(${(took / 1000).toFixed(1)} s from publish)`)}`);
    report(current, env);
  } finally {
    await stopDaemon();
  }
}

async function waitFor(fn, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main() {
  const inside = process.env[INSIDE] === '1';
  const why = userManagerUnavailable({ insideNamespace: inside });
  if (!inside && why === null && process.env.HEPH_DEMO_SUPERVISOR !== 'none') {
    // Re-run inside a private mount namespace, where a user manager may pretend systemd booted.
    const r = spawnSync(
      'unshare',
      ['-m', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url)],
      {
        stdio: 'inherit',
        env: { ...process.env, [INSIDE]: '1' },
      },
    );
    process.exit(r.status ?? 1);
  }
  process.stdout.write(`${bold('heph demo')}: a complete self-update cycle, no network\n`);
  const work = mkdtempSync(join(tmpdir(), 'heph-demo-'));
  let code = 0;
  // HEPH_DEMO_KEEP=1 keeps the scratch folder (logs, store, audit) for a look afterwards.
  const keep = process.env.HEPH_DEMO_KEEP === '1';
  const cleanup = () => {
    if (!keep) rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    process.stdout.write('\ninterrupted; cleaning up\n');
  });
  try {
    if (inside) {
      process.stdout.write(
        dim('supervisor: a private systemd user manager (real systemd, Restart=always)\n'),
      );
      await underSystemd(work);
    } else {
      await underNoManager(work, why ?? 'HEPH_DEMO_SUPERVISOR=none');
    }
    process.stdout.write(`\n${ok} ${bold(`done: hephd updated itself from ${FROM} to ${TO}`)}\n`);
  } catch (e) {
    process.stdout.write(`\n${bold('demo failed:')} ${e.message}\n`);
    code = 1;
  } finally {
    cleanup();
    process.stdout.write(dim(keep ? `kept ${work} (HEPH_DEMO_KEEP=1)\n` : `cleaned up ${work}\n`));
  }
  process.exit(code);
}

await main();
