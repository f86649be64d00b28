// The e2e scenario, run by systemd.test.ts under `unshare -m` (bundled by esbuild first): a real
// systemd user manager, heph installed from real release artifacts, a loopback forge publishing
// newer versions, and the promises checked: self-update, no failed clients, rollback of a broken
// version, no respawn on exit 78, no refused connections with socket activation. Prints one
// `E2E-RESULT {json}` line; the test asserts on it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { callDaemon } from '../../src/control/client.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { startForge } from '../helpers/forge-server.js';
import { connectLoop, statusLoop } from './clients.js';
import { privateSystemdMarker, say, startUserManager, type UserManager } from './user-manager.js';

interface Input {
  /** getArtifacts().dir: `<dir>/<version>/heph-<version>.tgz` and SHA256SUMS. */
  artifacts: string;
  versions: { n: string; n1: string; broken: string; n3: string };
  pidFile: string;
}

const input = JSON.parse(process.env.HEPH_E2E_INPUT ?? '{}') as Input;
/** Each awaited promise in the scenario gets this long (the brief: N+1 within 60 s). */
const STEP_TIMEOUT_MS = 60_000;
/** RestartSec=2 plus a start: after this long without a respawn, systemd has given up for good. */
const NO_RESPAWN_WAIT_MS = 6_000;
const UNIT = 'hephd.service';
/** The forge demands it; it must reach the daemon through the 0600 EnvironmentFile only. */
const TOKEN = 'e2e-token-only-in-the-environment-file';
const result: Record<string, unknown> = { ok: false };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | null | false>,
  ms = STEP_TIMEOUT_MS,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== null && v !== false) {
      say(`${what}: after ${((Date.now() - start) / 1000).toFixed(1)} s`);
      return v;
    }
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}

function config(forgeUrl: string, repo: string): string {
  return [
    '[update]',
    'mode = "auto"',
    'interval = "5m"', // × HEPH_DEV_SCHEDULE_SCALE 0.01: a poll every ~3 s
    '[forge]',
    'kind = "github"',
    `url = "${forgeUrl}"`,
    `repo = "${repo}"`,
    '[install]',
    'verify = "sha256"',
    'keep = 5',
    'allow_in_container = true', // these machines have /.dockerenv
    '[restart]',
    'cooldown = "1s"',
    'max_per_window = 20',
    'health_grace = "2s"',
    'drain_timeout = "5s"',
    '',
  ].join('\n');
}

async function main(m: UserManager): Promise<void> {
  const env = { ...m.env, HEPH_DEV_SCHEDULE_SCALE: '0.01', NO_COLOR: '1' };
  const paths = resolvePaths(env);
  const audit = () =>
    (readFileSync(paths.auditFile, 'utf8').trim().split('\n').filter(Boolean) as string[]).map(
      (l) => JSON.parse(l) as { event: string; version: string | null },
    );
  const daemonVersion = async (): Promise<string | null> => {
    try {
      const s = (await callDaemon(paths, 'GET', '/v1/status', undefined, { timeoutMs: 5_000 })) as {
        version?: string;
      };
      return s.version ?? null;
    } catch {
      return null;
    }
  };
  const runningVersion = (v: string) => async () => ((await daemonVersion()) === v ? v : null);
  const show = () => m.show(UNIT, ['ActiveState', 'SubState', 'NRestarts', 'MainPID', 'ExecMainStatus']);

  const forge = await startForge({ kind: 'github' });
  // on failure, what a person would look at first (there is no journal on these machines)
  diagnose = async () => ({
    unit: await m.show(UNIT, [
      'ActiveState',
      'SubState',
      'Result',
      'NRestarts',
      'MainPID',
      'ExecMainStatus',
      'ExecMainCode',
    ]),
    status: (await m.systemctl('status', '--no-pager', '--full', UNIT)).stdout.slice(-3000),
    audit: existsSync(paths.auditFile) ? audit().map((e) => `${e.event}@${e.version}`) : [],
    launcher: existsSync(join(paths.state, 'launcher.json'))
      ? readFileSync(join(paths.state, 'launcher.json'), 'utf8')
      : null,
    forgeRequests: forge.requests.slice(-10).map((r) => `${r.method} ${r.path} ${r.status}`),
  });
  try {
    const { n, n1, broken, n3 } = input.versions;
    forge.requireToken(TOKEN);
    forge.publishArtifacts(n, join(input.artifacts, n));
    mkdirSync(join(paths.config, '..'), { recursive: true });
    writeFileSync(paths.config, config(forge.url, forge.repo));

    // heph N as a user would have it: the release tarball unpacked somewhere
    const pkg = join(m.root, 'pkg');
    mkdirSync(pkg);
    execFileSync('tar', ['-xzf', join(input.artifacts, n, `heph-${n}.tgz`), '-C', pkg]);
    const hephN = join(pkg, 'package', 'dist', 'heph.mjs');
    const heph = (bin: string, args: string[], extra: Record<string, string> = {}) =>
      execa(process.execPath, [bin, ...args], {
        env: { ...env, ...extra },
        extendEnv: false,
        reject: false,
        timeout: 120_000,
      });
    const withToken = { HEPH_FORGE_TOKEN: TOKEN };

    say(`heph ${n}: daemon install`);
    const inst = await heph(hephN, ['daemon', 'install', '--json'], withToken);
    result.install = {
      exitCode: inst.exitCode,
      doc: tryJson(inst.stdout),
      stderr: String(inst.stderr).slice(-1000),
    };
    if (inst.exitCode !== 0) throw new Error(`daemon install failed: ${inst.stderr}`);
    result.afterInstall = {
      unit: await show(),
      version: await waitUntil(`hephd ${n} answering`, runningVersion(n)),
    };
    const again = await heph(hephN, ['daemon', 'install', '--json'], withToken);
    const human = await heph(hephN, ['daemon', 'install'], withToken);
    result.reinstall = { exitCode: again.exitCode, doc: tryJson(again.stdout), human: String(human.stdout) };
    const unitText = readFileSync(join(m.env.XDG_CONFIG_HOME!, 'systemd', 'user', UNIT), 'utf8');
    const envFile = join(paths.config, '..', 'hephd.env');
    result.token = {
      inUnit: unitText.includes(TOKEN),
      envFileMode: (statSync(envFile).mode & 0o777).toString(8),
      envFileHasIt: readFileSync(envFile, 'utf8').includes(TOKEN),
    };

    say(`publishing ${n1}; heph status every 100 ms meanwhile`);
    const clients = statusLoop(hephN, env, 100);
    const t0 = Date.now();
    forge.publishArtifacts(n1, join(input.artifacts, n1));
    await waitUntil(`hephd ${n1} answering`, runningVersion(n1));
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1_000); // a few more calls against the new daemon
    const calls = await clients.stop();
    const api = forge.requests.filter((r) => r.path.includes('/releases'));
    result.update = {
      seconds,
      apiRequests: api.length,
      apiWithoutToken: api.filter((r) => r.headers.authorization !== `Bearer ${TOKEN}`).length,
      unit: await show(),
      events: audit().map((e) => `${e.event}@${e.version}`),
      statusCalls: calls.length,
      statusFailures: calls.filter((c) => c.exitCode !== 0),
      versionsSeen: [...new Set(calls.map((c) => c.version))],
    };

    say(`publishing ${broken}, whose daemon exits 1 at start`);
    forge.publishArtifacts(broken, join(input.artifacts, broken));
    await waitUntil(
      'the launcher to roll back',
      async () => audit().some((e) => e.event === 'update.rolled-back') || null,
    );
    await waitUntil(`hephd ${n1} answering again`, runningVersion(n1));
    const launcherState = JSON.parse(readFileSync(join(paths.state, 'launcher.json'), 'utf8')) as {
      quarantined: { version: string }[];
    };
    result.broken = {
      unit: await show(),
      version: await daemonVersion(),
      events: audit().map((e) => `${e.event}@${e.version}`),
      quarantined: launcherState.quarantined.map((q) => q.version),
    };

    say('a bad config: exit 78, and systemd must not respawn it');
    const good = readFileSync(paths.config, 'utf8');
    writeFileSync(paths.config, good.replace('mode = "auto"', 'mode = "sometimes"'));
    await m.systemctl('restart', UNIT);
    await waitUntil(
      'hephd to exit 78',
      async () => ((await show()).ExecMainStatus === '78' ? true : null),
      20_000,
    );
    const right = await show();
    await sleep(NO_RESPAWN_WAIT_MS);
    result.badConfig = { rightAfter: right, later: await show() };
    writeFileSync(paths.config, good);

    // from here on, the heph that self-updated is the one a person would run
    const hephCurrent = join(paths.store, 'current', 'dist', 'heph.mjs');
    say('daemon install --socket, then a client connecting every 20 ms through a self-update');
    const sock = await heph(hephCurrent, ['daemon', 'install', '--socket', '--json']);
    result.socketInstall = {
      exitCode: sock.exitCode,
      doc: tryJson(sock.stdout),
      stderr: String(sock.stderr).slice(-1000),
    };
    if (sock.exitCode !== 0) throw new Error(`daemon install --socket failed: ${sock.stderr}`);
    await waitUntil(`hephd ${n1} answering on the activated socket`, runningVersion(n1));
    const connects = connectLoop(paths.socket, 20);
    forge.publishArtifacts(n3, join(input.artifacts, n3));
    await waitUntil(`hephd ${n3} answering`, runningVersion(n3));
    await sleep(500);
    const attempts = await connects.stop();
    // settled: the new daemon stays up (a flapping unit fails here, with the diagnosis)
    const settled = await waitUntil(
      'the unit to be active',
      async () => {
        const u = await show();
        return u.ActiveState === 'active' ? u : null;
      },
      20_000,
    );
    result.socket = {
      unit: settled,
      events: audit().map((e) => `${e.event}@${e.version}`),
      socketUnit: await m.show('hephd.socket', ['ActiveState']),
      attempts: attempts.length,
      refused: attempts.filter((a) => !a.ok),
    };

    say('heph doctor against the running service');
    const doc = await heph(hephCurrent, ['doctor', '--json']);
    result.doctor = {
      exitCode: doc.exitCode,
      doc: tryJson(doc.stdout),
      stderr: String(doc.stderr).slice(-500),
    };

    say('daemon status, restart, stop, start');
    const verb = async (v: string) => {
      const r = await heph(hephCurrent, ['daemon', v, '--json']);
      return { exitCode: r.exitCode, doc: tryJson(r.stdout) };
    };
    const statusBefore = await verb('status');
    const restarted = await verb('restart');
    const answersAfterRestart = await waitUntil('hephd answering after restart', runningVersion(n3));
    const stopped = await verb('stop');
    const statusStopped = await verb('status');
    const started = await verb('start');
    const statusStarted = await verb('status');
    result.verbs = {
      statusBefore,
      restarted,
      answersAfterRestart,
      stopped,
      statusStopped,
      started,
      statusStarted,
    };

    say('daemon uninstall');
    const un = await heph(hephCurrent, ['daemon', 'uninstall', '--json']);
    result.uninstall = {
      exitCode: un.exitCode,
      doc: tryJson(un.stdout),
      unit: await show(),
      unitFileLeft: existsSync(join(m.env.XDG_CONFIG_HOME!, 'systemd', 'user', UNIT)),
      storeKept: existsSync(join(paths.store, n3)),
    };
    result.ok = true;
  } finally {
    await forge.close();
  }
}

function tryJson(text: unknown): unknown {
  try {
    return JSON.parse(String(text));
  } catch {
    return String(text).slice(-1000);
  }
}

let manager: UserManager | null = null;
let diagnose = null as (() => Promise<unknown>) | null;
const finish = async (code: number) => {
  if (manager) {
    await manager.systemctl('stop', 'hephd.socket', UNIT).catch(() => undefined);
    await manager.stop();
    result.managerLogTail = readFileSync(manager.logFile, 'utf8').split('\n').slice(-60).join('\n');
    if (result.ok)
      rmSync(manager.root, { recursive: true, force: true }); // kept for a look when failed
    else result.scratch = manager.root;
  }
  process.stdout.write(`E2E-RESULT ${JSON.stringify(result)}\n`);
  process.exit(code);
};
// the test sends SIGTERM when it runs out of time: still stop the manager we started
process.once('SIGTERM', () => {
  result.error = 'stopped by the test (SIGTERM)';
  void finish(1);
});

try {
  privateSystemdMarker();
  manager = await startUserManager(input.pidFile);
  await main(manager);
  await finish(0);
} catch (e) {
  result.error = (e as Error).stack ?? String(e);
  say(`failed: ${(e as Error).message}`);
  if (diagnose) result.diagnosis = await diagnose().catch((d: Error) => `diagnosis failed: ${d.message}`);
  await finish(1);
}
