// Every generated unit and plist, checked by the real tools: `systemd-analyze verify` on units
// rendered into a scratch tree with a real launcher, `plist` and `plistutil` on the plists.
import { HEPH_APP } from '../../src/app/identity.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parsePlist } from 'plist';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLauncher } from '../../src/install/launcher.js';
import { type Env, type Paths, resolvePaths } from '../../src/platform/paths.js';
import {
  envFileLine,
  environmentLine,
  execWord,
  readStamp,
  renderPlist,
  renderSecretFile,
  renderSocketUnit,
  renderSystemdService,
} from '../../src/service/render.js';
import { buildSpec, type ServiceSpec } from '../../src/service/spec.js';
import { VERSION } from '../../src/version.js';

let root: string;
let paths: Paths;
/**
 * The node the units run: a link to this node in a folder that is not on PATH, as with nvm,
 * volta or mise, so the tests hold wherever the node running them lives, and the PATH the
 * units carry is always the captured one plus this folder.
 */
let node: string;
const BASE_PATH = '/usr/local/bin:/usr/bin:/bin';
const unitPath = () => `${BASE_PATH}:${dirname(node)}`;
// A folder name with a space, a percent sign and a dollar: all three mean something to systemd.
const env: Env = {
  PATH: BASE_PATH,
  HTTPS_PROXY: 'http://proxy.example:3128',
  HEPH_DEV_SCHEDULE_SCALE: '0.01',
  HEPH_FORGE_TOKEN: 'tok-never-inline',
  HEPH_DEBUG: '1',
  HEPH_FAULT_KILL_AT: 'swap',
  HEPH_TEST_FREE_BYTES: '1',
  HEPH_HTTP_HEADERS_TIMEOUT_MS: '50',
  HEPH_UPDATE_MODE: 'notify',
  SHELL: '/bin/bash',
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'heph-render-'));
  const home = join(root, 'odd home 100% $x');
  paths = resolvePaths({ HEPH_HOME: home });
  writeLauncher(paths); // real paths: systemd-analyze checks that ExecStart exists
  node = join(root, 'nvm', 'versions', 'node', 'bin', 'node');
  mkdirSync(dirname(node), { recursive: true });
  symlinkSync(process.execPath, node);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function spec(over: Partial<Parameters<typeof buildSpec>[0]> = {}): ServiceSpec {
  return buildSpec({
    app: HEPH_APP,
    manager: 'systemd',
    scope: 'user',
    socket: false,
    env: { ...env, HEPH_HOME: paths.data.replace(/\/data$/, '') },
    paths,
    uid: 501,
    node,
    home: '/home/someone',
    drainTimeoutMs: 30_000,
    configText: '',
    ...over,
  });
}

/** Writes units into a fresh folder under their real names and runs systemd-analyze verify. */
function verify(files: Record<string, string>, user: boolean): { status: number | null; output: string } {
  const dir = mkdtempSync(join(root, 'units-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const args = [...(user ? ['--user'] : []), 'verify', ...Object.keys(files).map((n) => join(dir, n))];
  // --user verification sets up a user manager's paths, which needs a runtime folder
  const runtime = mkdtempSync(join(root, 'runtime-'));
  const r = spawnSync('systemd-analyze', args, {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: 'warning' },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Lines systemd-analyze prints about our files (it also lints unrelated system units). */
function complaintsAbout(output: string): string[] {
  return output.split('\n').filter((l) => /hephd\.(service|socket)/.test(l));
}

/** The real linters; missing ones skip their cases with a reason, and fail them under CI. */
function missingTool(tool: string): string | null {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0 ? null : `${tool} is not installed`;
}
const noAnalyze = missingTool('systemd-analyze');
const noPlistutil = missingTool('plistutil');
const CI = process.env.CI === 'true';
for (const reason of [noAnalyze, noPlistutil]) {
  if (reason && !CI) console.warn(`service-render: linter cases skipped: ${reason}`);
}
function requireTool(reason: string | null): void {
  if (reason) throw new Error(`CI=true and ${reason}`);
}

describe('systemd units', () => {
  it.skipIf(noAnalyze !== null && !CI).each([
    ['user', undefined, false],
    ['user', undefined, true],
    ['system', 'nobody', false],
    ['system', 'nobody', true],
  ] as const)('the %s unit (run as %s, socket %s) passes systemd-analyze verify', (scope, runAs, socket) => {
    requireTool(noAnalyze);
    const s = spec({ scope, runAs, socket });
    const files: Record<string, string> = { 'hephd.service': renderSystemdService(s) };
    if (socket) files['hephd.socket'] = renderSocketUnit(s);
    const r = verify(files, scope === 'user');
    expect(complaintsAbout(r.output), r.output).toEqual([]);
    expect(r.status, r.output).toBe(0);
  });

  it.skipIf(noAnalyze !== null && !CI)(
    'the linter does fail a unit whose node is missing (so the passes above mean something)',
    () => {
      requireTool(noAnalyze);
      const r = verify(
        { 'hephd.service': renderSystemdService(spec({ node: join(root, 'no-such-node') })) },
        true,
      );
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/no-such-node/);
    },
  );

  it('says what a self-updating daemon needs, with absolute paths', () => {
    const text = renderSystemdService(spec());
    for (const line of [
      'Type=exec',
      'Restart=always',
      'RestartSec=2',
      'RestartPreventExitStatus=78',
      'StartLimitIntervalSec=300',
      'StartLimitBurst=10',
      'TimeoutStopSec=45s',
      'WantedBy=default.target',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    const exec = text.split('\n').find((l) => l.startsWith('ExecStart='))!;
    expect(exec).toBe(`ExecStart=${execWord(node)} ${execWord(paths.launcher)}`);
    // Live reload: SIGHUP to the main process (systemctl reload, heph daemon reload).
    expect(text.split('\n')).toContain('ExecReload=/bin/kill -HUP $MAINPID');
    expect(exec).toContain('100%%'); // a specifier would otherwise be expanded
    expect(exec).toContain('$$x'); // and a variable
    const unitSection = text.slice(text.indexOf('[Unit]'), text.indexOf('[Service]'));
    expect(unitSection).toContain('StartLimitBurst=10'); // only [Unit] honours it
  });

  it('captures an allowlist (config overrides, HEPH_HOME, …), PATH and proxies, never the token', () => {
    const text = renderSystemdService(spec());
    expect(text).toContain(environmentLine('HEPH_DEV_SCHEDULE_SCALE', '0.01'));
    expect(text).toContain(environmentLine('HEPH_UPDATE_MODE', 'notify'));
    expect(text).not.toContain('HEPH_HTTP_HEADERS_TIMEOUT_MS'); // a test shell's knob stays there
    expect(text).toContain(environmentLine('HTTPS_PROXY', 'http://proxy.example:3128'));
    expect(text).toContain(environmentLine('PATH', unitPath()));
    expect(text).not.toContain('tok-never-inline');
    expect(text).not.toContain('HEPH_FORGE_TOKEN=');
    expect(text).not.toContain('HEPH_DEBUG');
    expect(text).not.toContain('HEPH_FAULT_KILL_AT'); // fault injection never reaches a service
    expect(text).not.toContain('HEPH_TEST_FREE_BYTES');
    expect(text).not.toContain('SHELL');
    expect(text).toMatch(/^EnvironmentFile=-\/.*hephd\.env$/m);
  });

  it('a system unit names its user; a socket unit is owner-only and queues connections', () => {
    const s = spec({ scope: 'system', runAs: 'heph', socket: true });
    const service = renderSystemdService(s);
    expect(service).toMatch(/^User=heph$/m);
    expect(service).toMatch(/^Requires=hephd\.socket$/m);
    expect(service).toMatch(/^WantedBy=multi-user\.target$/m);
    const socket = renderSocketUnit(s);
    expect(socket).toMatch(/^SocketMode=0600$/m);
    expect(socket).toContain(`ListenStream=${paths.socket.replace(/%/g, '%%')}`);
  });

  it('refuses a value that would break out of its line', () => {
    expect(() =>
      renderSystemdService(spec({ env: { ...env, HEPH_NOTIFY_COMMAND: 'a\nExecStartPre=/bin/evil' } })),
    ).toThrow(/control character/);
  });

  it('a changed config changes the unit (hephd reads it once; install then restarts it)', () => {
    const a = renderSystemdService(spec({ configText: '[update]\nmode = "auto"\n' }));
    const b = renderSystemdService(spec({ configText: '[update]\nmode = "notify"\n' }));
    expect(a).not.toBe(b);
    expect(a).toMatch(/^# heph-config sha256=[0-9a-f]{16} /m);
    const pa = renderPlist(spec({ manager: 'launchd', configText: 'x' }));
    expect(pa).not.toBe(renderPlist(spec({ manager: 'launchd', configText: 'y' })));
  });

  it('PATH keeps absolute entries only and the folder of the node that runs heph', () => {
    const s = spec({ env: { ...env, PATH: '.:bin:/usr/bin:~/x:/usr/bin' }, node: '/opt/node-22/bin/node' });
    expect(s.environment.PATH).toBe('/usr/bin:/opt/node-22/bin');
  });

  it('stamps the version and a hash that notices edits', () => {
    const text = renderSystemdService(spec());
    expect(readStamp(text)).toMatchObject({ version: VERSION, intact: true });
    expect(readStamp(text.replace('Restart=always', 'Restart=on-failure'))).toMatchObject({
      version: VERSION,
      intact: false,
    });
    expect(readStamp('[Service]\nExecStart=/bin/true\n')).toBeNull();
  });

  it('the environment file quotes the token the way a shell unquotes it', () => {
    const file = renderSecretFile(spec(), 'a"b\\c$d');
    expect(file).toContain(envFileLine('HEPH_FORGE_TOKEN', 'a"b\\c$d'));
    // EnvironmentFile follows shell quoting for these characters; a shell reads back the same bytes
    const dir = mkdtempSync(join(root, 'envfile-'));
    writeFileSync(join(dir, 'env'), file);
    const out = execFileSync('bash', ['-c', `set -a; . ${join(dir, 'env')}; printf %s "$HEPH_FORGE_TOKEN"`], {
      encoding: 'utf8',
    });
    expect(out).toBe('a"b\\c$d');
  });
});

describe('launchd plists', () => {
  it.skipIf(noPlistutil !== null && !CI).each([['user'], ['system']] as const)(
    'the %s plist parses with plist and plistutil and has the keys',
    (scope) => {
      requireTool(noPlistutil);
      const s = spec({ manager: 'launchd', scope, runAs: scope === 'system' ? 'heph' : undefined });
      const xml = renderPlist(s);
      const job = parsePlist(xml) as Record<string, unknown>;
      expect(job.Label).toBe('dev.heph.hephd');
      expect(job.ProgramArguments).toEqual([node, paths.launcher]);
      expect(job.KeepAlive).toBe(true);
      expect(job.RunAtLoad).toBe(true);
      expect(job.ThrottleInterval).toBe(5);
      expect(job.ExitTimeOut).toBe(45);
      expect(job.LaunchOnlyOnce).toBeUndefined();
      const envVars = job.EnvironmentVariables as Record<string, string>;
      expect(envVars.PATH).toBe(unitPath());
      expect(envVars.HEPH_DEV_SCHEDULE_SCALE).toBe('0.01');
      expect(envVars.HEPH_FORGE_TOKEN).toBeUndefined();
      expect(envVars.HEPH_FORGE_TOKEN_FILE).toBe(s.secretFile); // the token travels by file
      expect(xml).not.toContain('tok-never-inline');
      const logDir = scope === 'user' ? '/home/someone/Library/Logs/heph' : '/Library/Logs/heph';
      expect(job.StandardOutPath).toBe(`${logDir}/hephd.log`);
      expect(job.UserName).toBe(scope === 'system' ? 'heph' : undefined);
      expect(readStamp(xml)).toMatchObject({ version: VERSION, intact: true });

      // libplist: XML → binary → XML must round-trip to the same values
      const dir = mkdtempSync(join(root, 'plist-'));
      writeFileSync(join(dir, 'dev.heph.hephd.plist'), xml);
      execFileSync('plistutil', [
        '-i',
        join(dir, 'dev.heph.hephd.plist'),
        '-f',
        'bin',
        '-o',
        join(dir, 'b.plist'),
      ]);
      const back = execFileSync('plistutil', ['-i', join(dir, 'b.plist'), '-f', 'xml'], { encoding: 'utf8' });
      expect(parsePlist(back)).toEqual(job);
      expect(readFileSync(join(dir, 'b.plist')).subarray(0, 8).toString()).toBe('bplist00');
    },
  );

  it('a token file from an earlier install stays in use; none is invented without one', () => {
    const noToken = { ...env, HEPH_FORGE_TOKEN: undefined };
    const kept = spec({ manager: 'launchd', env: noToken, keepSecret: true });
    expect(kept.environment.HEPH_FORGE_TOKEN_FILE).toBe(kept.secretFile);
    expect(spec({ manager: 'launchd', env: noToken }).environment.HEPH_FORGE_TOKEN_FILE).toBeUndefined();
  });

  it('escapes XML in values', () => {
    const s = spec({ manager: 'launchd', env: { ...env, HEPH_NOTIFY_COMMAND: '<a & "b">' } });
    const job = parsePlist(renderPlist(s)) as { EnvironmentVariables: Record<string, string> };
    expect(job.EnvironmentVariables.HEPH_NOTIFY_COMMAND).toBe('<a & "b">');
  });
});

describe('the spec', () => {
  it('refuses combinations that cannot work', () => {
    expect(() => spec({ manager: 'launchd', socket: true })).toThrow(/--socket needs systemd/);
    expect(() => spec({ runAs: 'heph' })).toThrow(/--user only applies to a system service/);
    expect(() => spec({ scope: 'system', runAs: 'bad name' })).toThrow(/not a valid user name/);
    expect(() => spec({ node: 'node' })).toThrow(/not absolute/);
  });

  it('system units do not inherit the installing user XDG folders', () => {
    const xdg = { ...env, XDG_DATA_HOME: '/root/.xd' };
    expect(spec({ env: xdg }).environment.XDG_DATA_HOME).toBe('/root/.xd');
    expect(spec({ env: xdg, scope: 'system', runAs: 'heph' }).environment.XDG_DATA_HOME).toBeUndefined();
  });
});
