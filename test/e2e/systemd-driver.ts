// The e2e scenario, run by systemd.test.ts under `unshare -m` (bundled by esbuild first): a real
// systemd user manager, heph installed from real release artifacts, a loopback forge publishing
// newer versions, and the promises checked: self-update, no failed clients, rollback of a broken
// version, no respawn on exit 78, no refused connections with socket activation. Prints one
// `E2E-RESULT {json}` line; the test asserts on it.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callDaemon } from '../../src/control/client.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { startForge } from '../helpers/forge-server.js';
import { connectLoop, statusLoop } from './clients.js';
import {
  hephRunner,
  readAudit,
  runScenario,
  type Scenario,
  say,
  scenarioEnv,
  sleep,
  UNIT,
  type UserManager,
  unpackRelease,
  waitUntil,
  writeScenarioConfig,
} from './scenario.js';

interface Input {
  /** getArtifacts().dir: `<dir>/<version>/heph-<version>.tgz` and SHA256SUMS. */
  artifacts: string;
  versions: { n: string; n1: string; broken: string; n3: string };
  pidFile: string;
}

/** RestartSec=2 plus a start: after this long without a respawn, systemd has given up for good. */
const NO_RESPAWN_WAIT_MS = 6_000;
/** The status loop's calls across a self-update the test asserts on (systemd.test.ts), and how
 *  many of them the new version must have answered, so the loop provably ran past the restart. */
const MIN_STATUS_CALLS = 5;
const MIN_CALLS_ON_NEW = 2;
/** The forge demands it; it must reach the daemon through the 0600 EnvironmentFile only. */
const TOKEN = 'e2e-token-only-in-the-environment-file';

async function main(m: UserManager, input: Input, { result, onFailure }: Scenario): Promise<void> {
  const env = scenarioEnv(m);
  const paths = resolvePaths(env);
  const audit = () => readAudit(paths);
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
  onFailure(async () => ({
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
  }));
  try {
    const { n, n1, broken, n3 } = input.versions;
    forge.requireToken(TOKEN);
    forge.publishArtifacts(n, join(input.artifacts, n));
    writeScenarioConfig(paths, forge);
    // heph N as a user would have it: the release tarball unpacked somewhere
    const hephN = unpackRelease(m, input.artifacts, n);
    const heph = hephRunner(env);
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
    // A few more calls against the new daemon; on a loaded machine each call is slow, so wait for
    // the calls themselves (bounded) rather than for a fixed time.
    const extraUntil = Date.now() + 20_000;
    while (
      Date.now() < extraUntil &&
      (clients.results.length < MIN_STATUS_CALLS ||
        clients.results.filter((c) => c.version === n1).length < MIN_CALLS_ON_NEW)
    ) {
      await sleep(100);
    }
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

    say('live reload: config set, systemctl reload of a bad config, heph daemon reload');
    const before = await show();
    const set = await heph(hephCurrent, ['config', 'set', 'update.interval', '10m', '--json']);
    const goodNow = readFileSync(paths.config, 'utf8');
    writeFileSync(paths.config, goodNow.replace('mode = "auto"', 'mode = "sometimes"'));
    const sysReload = await m.systemctl('reload', UNIT);
    await waitUntil(
      'hephd to refuse the bad config',
      async () => audit().some((e) => e.event === 'config.refused') || null,
      20_000,
    );
    const afterBad = await show();
    const viaHephBad = await heph(hephCurrent, ['daemon', 'reload', '--json']);
    writeFileSync(paths.config, goodNow.replace('interval = "10m"', 'interval = "15m"'));
    const viaHeph = await heph(hephCurrent, ['daemon', 'reload', '--json']);
    const reloadDoctor = await heph(hephCurrent, ['doctor', '--json']);
    result.reload = {
      before,
      set: { exitCode: set.exitCode, doc: tryJson(set.stdout), stderr: String(set.stderr).slice(-500) },
      systemctlReload: { exitCode: sysReload.exitCode, stderr: sysReload.stderr.slice(-500) },
      afterBad,
      viaHephBad: { exitCode: viaHephBad.exitCode, stderr: String(viaHephBad.stderr).slice(-500) },
      viaHeph: {
        exitCode: viaHeph.exitCode,
        doc: tryJson(viaHeph.stdout),
        stderr: String(viaHeph.stderr).slice(-500),
      },
      after: await show(),
      events: audit()
        .filter((e) => e.event.startsWith('config.'))
        .map((e) => ({ event: e.event, by: (e as { by?: string }).by ?? null })),
      configApplied:
        (tryJson(reloadDoctor.stdout) as { checks?: Array<{ id: string; status: string }> }).checks?.find(
          (c) => c.id === 'config-applied',
        ) ?? null,
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

await runScenario<Input>({ marker: 'E2E-RESULT', inputVar: 'HEPH_E2E_INPUT', body: main });
