// heph as a system service under a real systemd *system* manager (TESTING.md, "A real systemd
// system manager"; scripts/lib/system-manager.mjs): a system user made for the test, the config
// written as root the documented way (docs/operations.md, "A system service"), `daemon install
// --system --user NAME`, the daemon running as that user with the right owners and modes,
// status as root and as that user, a self-update, a crash-looping release rolled back, a config
// the user cannot read (restart exits 1 with the journal, install repairs it), `--socket` used by
// the service user, and uninstall. Every heph runs inside the manager's namespaces (nsenter).
import { waitUntil as waitFor } from './scenario.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecResult,
  type SystemManager,
  startSystemManager,
  systemManagerUnavailable,
} from '../../scripts/lib/system-manager.mjs';
import { BROKEN_VERSION, getArtifacts } from '../helpers/artifacts.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

/** The scenario takes 40-70 s on a quiet 2-core machine, 2 minutes on a loaded one; a hung step must still end the test. */
const SCENARIO_TIMEOUT_MS = 240_000;
/** getArtifacts builds five releases when the sources changed: minutes on a loaded machine. */
const ARTIFACTS_BUILD_MS = 240_000;
/** Each awaited step: a poll every ~3 s, a start limit of RestartSec=2 × 3 for a rollback. */
const STEP_TIMEOUT_MS = 60_000;
const VERSIONS = { n: '1.0.0', n1: '1.1.0', broken: BROKEN_VERSION };
const TOKEN = 'system-e2e-token-only-in-the-environment-file';
const HOME = '/var/lib/heph';
const UNIT = 'hephd.service';

const missing = systemManagerUnavailable();
const mustRun = process.env.CI === 'true';
if (missing && !mustRun) console.warn(`test/e2e/system.test.ts skipped: ${missing}`);

// biome-ignore lint/suspicious/noExplicitAny: steps record what they saw; each `it` checks its part
type Result = Record<string, any>;
const result: Result = {};
/** A system account of its own per run (removed in afterAll): `heph-e2e-<pid>`. */
const user = `heph-e2e-${process.pid}`;
let m: SystemManager | null = null;
let forge: TestForge | null = null;
let userMade = false;

const say = (text: string) =>
  process.stderr.write(`system-e2e ${new Date().toISOString().slice(11, 19)} ${text}\n`);

/** scenario.ts's poll loop, saying how long each wait took with this test's prefix. */
const waitUntil = <T>(what: string, fn: () => Promise<T | null | false>, ms = STEP_TIMEOUT_MS) =>
  waitFor(what, fn, ms, say);

function tryJson(text: string): Result | string {
  try {
    return JSON.parse(text) as Result;
  } catch {
    return text.slice(-1500);
  }
}

/** What a step keeps of a heph run: exit code, parsed stdout, the end of stderr. */
function outcome(r: ExecResult) {
  return {
    exitCode: r.exitCode,
    doc: tryJson(r.stdout),
    stdout: r.stdout.slice(-3000),
    stderr: r.stderr.slice(-3000),
  };
}

describe.skipIf(missing !== null && !mustRun)(
  'heph as a system service under a real systemd system manager',
  () => {
    beforeAll(async () => {
      if (missing) throw new Error(`CI=true and this machine cannot run the system-manager e2e: ${missing}`);
      const art = await getArtifacts();
      spawnSync('userdel', [user], { stdio: 'ignore' }); // a leftover of a killed run with this pid
      // as docs/operations.md says (that home is the private /var/lib/heph inside the manager)
      execFileSync('useradd', [
        '--system',
        '--user-group',
        '--home-dir',
        HOME,
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        user,
      ]);
      userMade = true;
      const sys = await startSystemManager({ label: 'e2e-sys', log: say });
      m = sys;
      forge = await startForge({ kind: 'github' });
      try {
        await scenario(sys, forge, art.dir);
        result.ok = true;
      } catch (e) {
        result.error = (e as Error).stack ?? String(e);
        result.journal = await sys.journal(UNIT, 40);
        result.managerLog = sys.logTail(40);
        console.error(`system e2e failed: ${result.error}\n--- journal ---\n${result.journal}`);
      }
    }, SCENARIO_TIMEOUT_MS + ARTIFACTS_BUILD_MS);

    afterAll(async () => {
      await forge?.close();
      await m?.stop({ clean: result.ok === true });
      if (userMade) spawnSync('userdel', [user], { stdio: 'ignore' });
    }, 90_000);

    it('ran the whole scenario', () => {
      expect(result.error).toBeUndefined();
      expect(result.ok).toBe(true);
    });

    it('config written as root the documented way; install --system --user starts a daemon that stays up as that user', () => {
      expect(result.config.every((c: { exitCode: number }) => c.exitCode === 0)).toBe(true);
      // the dry run names every change it would make for the service's user
      expect(result.dryRun.exitCode).toBe(0);
      expect(result.dryRun.changes).toContain(
        `would change ${HOME}/config.toml: group root → ${user}, mode 0600 → 0640 (so the service can read it)`,
      );
      expect(result.dryRun.hasToken).toBe(false);
      expect(result.dryRun.unitAsWritten).toBe(true); // contents as written, without --system hints
      expect(result.install.exitCode).toBe(0);
      expect(result.install.doc).toMatchObject({ scope: 'system', owner: { user } });
      expect(result.afterInstall.unit).toMatchObject({ ActiveState: 'active', User: user });
      expect(result.afterInstall.processUser).toBe(user);
      expect(result.afterInstall.version).toBe(VERSIONS.n);
    });

    it('what the service reads is readable by its user, what it writes is its own, nothing is widened', () => {
      const modes = result.modes as Record<string, string>;
      const group = user; // useradd --user-group
      expect(modes[`${HOME}/config.toml`]).toBe(`root ${group} 640`);
      expect(modes[`${HOME}/hephd.env`]).toBe('root root 600'); // systemd (root) reads it
      expect(result.configSetAfter.exitCode).toBe(0); // and config set after install kept the 640 above
      // the boot script's 0755 stays as it was; a 0700 home would get the group's search bit only
      expect(modes[HOME]).toMatch(new RegExp(`^root (root|${group}) 7[15]0|root root 755$`));
      for (const p of ['data', 'state', 'run'])
        expect(modes[`${HOME}/${p}`]).toMatch(new RegExp(`^${user} ${group} 7[05]0$`));
      expect(modes[`${HOME}/run/hephd.sock`]).toMatch(new RegExp(`^${user} ${group} `));
      expect(result.token).toEqual({ inUnit: false, apiWithoutToken: 0 });
    });

    it('status and doctor with --system, as root and as the service user, need no variables', () => {
      expect(result.statusRoot).toMatchObject({ exitCode: 0, doc: { running: true, version: VERSIONS.n } });
      expect(result.statusUser).toMatchObject({ exitCode: 0, doc: { running: true, version: VERSIONS.n } });
      const checks = Object.fromEntries(
        (result.doctor.doc.checks as { id: string; status: string }[]).map((c) => [c.id, c.status]),
      );
      expect(checks).toMatchObject({
        config: 'ok',
        'config-access': 'ok',
        unit: 'ok',
        forge: 'ok',
        token: 'ok',
        daemon: 'ok',
        store: 'ok',
      });
      expect(result.doctor.exitCode).toBe(0);
    });

    it('updates itself to N+1 (systemd restarts it) and rolls a crash-looping release back', () => {
      expect(Number(result.update.unit.NRestarts)).toBeGreaterThanOrEqual(1);
      expect(result.update.events).toContain(`update.installed@${VERSIONS.n1}`);
      expect(result.broken.events).toContain(`update.rolled-back@${VERSIONS.n1}`);
      expect(result.broken.version).toBe(VERSIONS.n1);
      expect(result.broken.unit.ActiveState).toBe('active');
      expect(result.broken.stateOwners).toEqual([user]); // root never wrote into the service's state
      expect([result.rootCheck.exitCode, result.rootPause.exitCode, result.rootResume.exitCode]).toEqual([
        0, 0, 0,
      ]);
    });

    it('a config its user cannot read: restart exits 1 with the journal, doctor names it, install repairs it', () => {
      expect(result.unreadable.restart.exitCode).toBe(1);
      expect(result.unreadable.restart.stderr).toMatch(/hephd\.service/);
      expect(result.unreadable.restart.stderr).toMatch(/permission denied|EACCES|cannot read/i);
      expect(result.unreadable.restart.stdout).not.toMatch(/running/);
      const access = (
        result.unreadable.doctor.doc.checks as { id: string; status: string; summary: string }[]
      ).find((c) => c.id === 'config-access');
      expect(access).toMatchObject({ status: 'fail' });
      expect(access?.summary).toContain(user);
      expect(result.unreadable.repair.exitCode).toBe(0);
      expect(result.unreadable.versionAfterRepair).toBe(VERSIONS.n1);
    });

    it('with --socket the socket unit hands the socket to the service user, who reaches the daemon', () => {
      expect(result.socket.install.exitCode).toBe(0);
      expect(result.socket.socketUnit).toMatchObject({
        ActiveState: 'active',
        SocketUser: user,
        SocketGroup: user,
      });
      expect(result.socket.mode).toMatch(new RegExp(`^${user} ${user} 600$`));
      expect(result.socket.statusUser).toMatchObject({ exitCode: 0, doc: { running: true } });
    });

    it('uninstall --system stops and removes the units; status then suggests install --system', () => {
      expect(result.uninstall.exitCode).toBe(0);
      expect(result.uninstall.unitFileLeft).toBe(false);
      expect(['inactive', '']).toContain(result.uninstall.unit.ActiveState ?? '');
      expect(result.uninstall.status.exitCode).toBe(3);
      expect(result.uninstall.status.stderr).toContain('heph daemon install --system');
    });
  },
);

async function scenario(sys: SystemManager, f: TestForge, artifacts: string): Promise<void> {
  const node = process.execPath;
  // heph N as a person would have it: the release tarball unpacked somewhere root reads
  const pkg = join(sys.root, 'pkg');
  mkdirSync(pkg);
  execFileSync('tar', ['-xzf', join(artifacts, VERSIONS.n, `heph-${VERSIONS.n}.tgz`), '-C', pkg]);
  const hephN = join(pkg, 'package', 'dist', 'heph.mjs');
  const hephCurrent = `${HOME}/data/versions/current/dist/heph.mjs`;
  // polls 100× sooner; everything else is what root's shell would have
  const base = { HOME: '/root', HEPH_DEV_SCHEDULE_SCALE: '0.01', NO_COLOR: '1' };
  const heph = async (
    bin: string,
    args: string[],
    opts: { env?: Record<string, string>; user?: string } = {},
  ) => outcome(await sys.exec(node, [bin, ...args], { env: { ...base, ...opts.env }, user: opts.user }));
  const status = async (as?: string) => heph(hephCurrent, ['status', '--system', '--json'], { user: as });
  const runningVersion = (v: string) => async () => {
    const s = await status();
    return s.exitCode === 0 && typeof s.doc === 'object' && s.doc.version === v ? v : null;
  };
  const show = () =>
    sys.show(UNIT, ['ActiveState', 'SubState', 'NRestarts', 'MainPID', 'ExecMainStatus', 'User']);
  const audit = () =>
    readFileSync(sys.inside(`${HOME}/state/audit.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; version: string | null })
      .map((e) => `${e.event}@${e.version}`);
  const stat = async (paths: string[]) => {
    const r = await sys.exec('stat', ['-c', '%U %G %a %n', ...paths]);
    const out: Record<string, string> = {};
    for (const line of r.stdout.trim().split('\n')) {
      const [u, g, mode, ...name] = line.split(' ');
      out[name.join(' ')] = `${u} ${g} ${mode}`;
    }
    return out;
  };

  f.requireToken(TOKEN);
  f.publishArtifacts(VERSIONS.n, join(artifacts, VERSIONS.n));

  say('config as root: heph config set --system … (and once as HEPH_HOME=/var/lib/heph heph config set …)');
  const settings: [string, string][] = [
    ['forge.url', f.url],
    ['forge.repo', f.repo],
    ['update.interval', '5m'], // × HEPH_DEV_SCHEDULE_SCALE 0.01: a poll every ~3 s
    ['install.allow_in_container', 'true'], // these machines have /.dockerenv
    ['restart.cooldown', '1s'],
    ['restart.max_per_window', '20'],
    ['update.mode', 'auto'], // last: auto needs forge.repo
  ];
  result.config = [];
  for (const [i, [k, v]] of settings.entries()) {
    // both documented forms: --system, and the HEPH_HOME it stands for
    const set =
      i === 0
        ? heph(hephN, ['config', 'set', k, v], { env: { HEPH_HOME: HOME } })
        : heph(hephN, ['config', 'set', '--system', k, v]);
    result.config.push(await set);
  }
  const dry = await sys.exec(node, [hephN, 'daemon', 'install', '--system', '--user', user, '--dry-run'], {
    env: { ...base, HEPH_FORGE_TOKEN: TOKEN },
  });
  result.dryRun = {
    exitCode: dry.exitCode,
    changes: dry.stdout.split('\n').filter((l) => l.startsWith('would change') || l.startsWith('would give')),
    hasToken: dry.stdout.includes(TOKEN),
    unitAsWritten: dry.stdout.includes('# `heph doctor` reports a unit that differs'),
  };

  say(`heph ${VERSIONS.n}: daemon install --system --user ${user}`);
  result.install = await heph(hephN, ['daemon', 'install', '--system', '--user', user, '--json'], {
    env: { HEPH_FORGE_TOKEN: TOKEN },
  });
  if (result.install.exitCode !== 0) throw new Error(`daemon install failed: ${result.install.stderr}`);
  const version = await waitUntil(`hephd ${VERSIONS.n} answering`, runningVersion(VERSIONS.n), 20_000);
  const unit = await show();
  const ps = await sys.exec('ps', ['-o', 'user=', '-p', unit.MainPID ?? '0']);
  result.afterInstall = { unit, version, processUser: ps.stdout.trim() };
  // root edits the config after install: its owner, group and mode stay
  result.configSetAfter = await heph(hephN, ['config', 'set', '--system', 'restart.cooldown', '2s']);
  result.modes = await stat([
    HOME,
    `${HOME}/config.toml`,
    `${HOME}/hephd.env`,
    `${HOME}/data`,
    `${HOME}/state`,
    `${HOME}/run`,
    `${HOME}/run/hephd.sock`,
  ]);

  say('status and doctor as root and as the service user');
  result.statusRoot = await status();
  result.statusUser = await status(user);
  result.doctor = await heph(hephCurrent, ['doctor', '--system', '--json']);

  say(`publishing ${VERSIONS.n1}`);
  f.publishArtifacts(VERSIONS.n1, join(artifacts, VERSIONS.n1));
  await waitUntil(`hephd ${VERSIONS.n1} answering`, runningVersion(VERSIONS.n1));
  const api = f.requests.filter((r) => r.path.includes('/releases'));
  const unitText = readFileSync(sys.inside(`/etc/systemd/system/${UNIT}`), 'utf8');
  result.token = {
    inUnit: unitText.includes(TOKEN),
    apiWithoutToken: api.filter((r) => r.headers.authorization !== `Bearer ${TOKEN}`).length,
  };
  result.update = { unit: await show(), events: audit() };

  say(`publishing ${VERSIONS.broken}, whose daemon exits 1 at start`);
  f.publishArtifacts(VERSIONS.broken, join(artifacts, VERSIONS.broken));
  await waitUntil('the launcher to roll back', async () =>
    audit().some((e) => e.startsWith('update.rolled-back@')),
  );
  const back = await waitUntil(`hephd ${VERSIONS.n1} answering again`, runningVersion(VERSIONS.n1));
  // root drives the install with --system: what it writes stays the service user's
  result.rootCheck = await heph(hephCurrent, ['update', 'check', '--system', '--json'], {
    env: { HEPH_FORGE_TOKEN: TOKEN }, // the service's token is in hephd.env, for systemd only
  });
  result.rootPause = await heph(hephCurrent, ['update', 'pause', '--system']);
  result.rootResume = await heph(hephCurrent, ['update', 'resume', '--system']);
  const owners = await sys.exec('sh', [
    '-c',
    `find ${HOME}/state ${HOME}/data ${HOME}/run -printf '%u\\n' | sort -u`,
  ]);
  result.broken = {
    unit: await show(),
    version: back,
    events: audit(),
    stateOwners: owners.stdout.trim().split('\n'),
  };

  say('a config the service user cannot read: restart, doctor, then install repairs it');
  await sys.exec('sh', ['-c', `chown root:root ${HOME}/config.toml && chmod 600 ${HOME}/config.toml`]);
  const restart = await heph(hephCurrent, ['daemon', 'restart', '--system']);
  const doctorBad = await heph(hephCurrent, ['doctor', '--system', '--json']);
  const repair = await heph(hephCurrent, ['daemon', 'install', '--system', '--user', user]);
  result.unreadable = {
    restart,
    doctor: doctorBad,
    repair,
    versionAfterRepair: await waitUntil(
      'hephd answering after the repair',
      runningVersion(VERSIONS.n1),
      20_000,
    ),
  };

  say('daemon install --socket; the service user talks to it through the socket unit');
  const sock = await heph(hephCurrent, [
    'daemon',
    'install',
    '--system',
    '--user',
    user,
    '--socket',
    '--json',
  ]);
  await waitUntil('hephd answering on the activated socket', runningVersion(VERSIONS.n1), 20_000);
  result.socket = {
    install: sock,
    socketUnit: await sys.show('hephd.socket', ['ActiveState', 'SocketUser', 'SocketGroup']),
    mode: Object.values(await stat([`${HOME}/run/hephd.sock`]))[0],
    statusUser: await status(user),
  };

  say('daemon uninstall --system');
  const un = await heph(hephCurrent, ['daemon', 'uninstall', '--system', '--json']);
  result.uninstall = {
    ...un,
    unit: await show(),
    unitFileLeft: existsSync(sys.inside(`/etc/systemd/system/${UNIT}`)),
    status: await heph(hephCurrent, ['status', '--system']),
  };
}
