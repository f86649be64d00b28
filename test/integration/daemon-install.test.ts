// `heph daemon install --dry-run` and the verbs, run as the built CLI from a package tree: every
// file is printed with its content, every command with its argv, and nothing on disk changes.
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, type Scratch, scratch } from '../helpers/cli.js';
import { type PackageTree, packageTree } from '../e2e/package-tree.js';

let pkg: PackageTree;
let s: Scratch;

beforeAll(() => {
  pkg = packageTree();
  s = scratch('heph-dinstall-');
});
afterAll(() => {
  rmSync(pkg.root, { recursive: true, force: true });
  s.cleanup();
});

function heph(args: string[], extra: Record<string, string> = {}) {
  return execa(process.execPath, [pkg.heph, ...args], {
    env: cleanEnv({ ...s.env, PATH: process.env.PATH, ...extra }),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
  });
}

interface DryRun {
  manager: string;
  scope: string;
  dryRun: boolean;
  files: { kind: string; path: string; mode: string; changed: boolean; content: string }[];
  commands: { argv: string[] }[];
  warnings: string[];
  store: { version: string; current: string | null };
}

describe('heph daemon install --dry-run', () => {
  it('prints every file with content and every command, and writes nothing', async () => {
    const token = 'ghp_dryrun_secret_123';
    const r = await heph(['daemon', 'install', '--manager', 'systemd', '--dry-run'], {
      HEPH_FORGE_TOKEN: token,
      HEPH_DEV_SCHEDULE_SCALE: '0.01',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing is changed');
    expect(r.stdout).toContain(`would write ${join(s.home, 'data', 'bin', 'hephd')} (mode 0755)`);
    expect(r.stdout).toMatch(/would write .*systemd\/user\/hephd\.service \(mode 0644\)/);
    expect(r.stdout).toMatch(/would write .*hephd\.env \(mode 0600\)/);
    expect(r.stdout).toContain('Restart=always');
    expect(r.stdout).toContain('Environment="HEPH_DEV_SCHEDULE_SCALE=0.01"');
    expect(r.stdout).toContain('HEPH_FORGE_TOKEN="[redacted]"');
    expect(r.stdout).toContain('would run: systemctl --user daemon-reload');
    expect(r.stdout).toContain('would run: systemctl --user enable --now hephd.service');
    expect(`${r.stdout}${r.stderr}`).not.toContain(token);
    expect(r.stderr).toContain('loginctl enable-linger');
    // nothing written: no store, no launcher, no unit
    expect(readdirSync(s.home).sort()).toEqual([]);
  });

  it('--json is one document describing the plan', async () => {
    const r = await heph(['daemon', 'install', '--manager', 'systemd', '--socket', '--dry-run', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as DryRun;
    expect(doc).toMatchObject({
      manager: 'systemd',
      scope: 'user',
      dryRun: true,
      store: { version: '0.1.0' },
    });
    expect(doc.files.map((f) => [f.kind, f.path.split('/').pop(), f.mode])).toEqual([
      ['launcher', 'hephd', '0755'],
      ['unit', 'hephd.service', '0644'],
      ['unit', 'hephd.socket', '0644'],
    ]);
    expect(doc.files.find((f) => f.path.endsWith('hephd.socket'))!.content).toContain(
      `ListenStream=${join(s.home, 'run', 'hephd.sock')}`,
    );
    expect(doc.commands.map((c) => c.argv.join(' '))).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now hephd.socket hephd.service',
    ]);
    expect(doc.warnings.join('\n')).toContain('does not seem to run systemd');
  });

  it('renders a LaunchAgent with the launchctl commands it would run', async () => {
    const r = await heph(['daemon', 'install', '--manager', 'launchd', '--dry-run', '--json'], {
      HEPH_FORGE_TOKEN: 'tok_abcdef',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as DryRun;
    const plistFile = join(s.home, 'Library', 'LaunchAgents', 'dev.heph.hephd.plist');
    expect(doc.files.map((f) => f.path)).toContain(plistFile);
    const uid = process.getuid!();
    expect(doc.commands.map((c) => c.argv.join(' '))).toEqual([
      `launchctl enable gui/${uid}/dev.heph.hephd`,
      `launchctl bootstrap gui/${uid} ${plistFile}`,
    ]);
    const secret = doc.files.find((f) => f.kind === 'secret')!;
    expect(secret.path.endsWith('hephd.token')).toBe(true);
    expect(secret.content).toBe('[redacted]\n');
    expect(doc.files.find((f) => f.kind === 'unit')!.content).toContain('<key>HEPH_FORGE_TOKEN_FILE</key>');
  });

  it('without --socket, a socket unit left by an earlier install is retired', async () => {
    const unitDir = join(s.home, '.config', 'systemd', 'user');
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(unitDir, 'hephd.socket'), '[Socket]\nListenStream=/tmp/x.sock\n');
    try {
      const r = await heph(['daemon', 'install', '--manager', 'systemd', '--dry-run']);
      expect(r.exitCode, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      const at = (text: string) => lines.findIndex((l) => l.startsWith(text));
      expect(at('would run: systemctl --user disable --now hephd.socket')).toBeGreaterThan(0);
      expect(at(`would remove ${join(unitDir, 'hephd.socket')}`)).toBeGreaterThan(
        at('would run: systemctl --user disable'),
      );
      expect(at('would run: systemctl --user daemon-reload')).toBeGreaterThan(at('would remove'));
    } finally {
      rmSync(join(s.home, '.config'), { recursive: true, force: true });
    }
  });

  it('a system service runs as the named user, who is given the store and state', async () => {
    const r = await heph([
      'daemon',
      'install',
      '--system',
      '--user',
      'nobody',
      '--manager',
      'systemd',
      '--dry-run',
      '--json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as DryRun & { owner: { user: string; paths: string[] } };
    const unit = doc.files.find((f) => f.kind === 'unit')!;
    expect(unit.path).toBe('/etc/systemd/system/hephd.service');
    expect(unit.content).toMatch(/^User=nobody$/m);
    expect(unit.content).toMatch(/^WantedBy=multi-user\.target$/m);
    expect(doc.commands.map((c) => c.argv.join(' '))).toEqual([
      'systemctl daemon-reload',
      'systemctl enable --now hephd.service',
    ]);
    expect(doc.owner).toMatchObject({
      user: 'nobody',
      paths: [join(s.home, 'data'), join(s.home, 'state'), join(s.home, 'run')],
    });
    const ghost = await heph([
      'daemon',
      'install',
      '--system',
      '--user',
      'no-such-user-x',
      '--manager',
      'systemd',
      '--dry-run',
    ]);
    expect(ghost.exitCode).toBe(2);
    expect(ghost.stderr).toContain('no account named "no-such-user-x"');
  });

  it('--system --dry-run as a normal user says that the real run needs root', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test switches to nobody: run the suite as root');
    chmodSync(pkg.root, 0o755); // nobody runs this package
    const r = await execa(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        pkg.heph,
        'daemon',
        'install',
        '--system',
        '--user',
        'nobody',
        '--manager',
        'systemd',
        '--dry-run',
      ],
      {
        env: cleanEnv({ PATH: process.env.PATH, HOME: '/nonexistent' }),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: 30_000,
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing is changed');
    expect(r.stderr).toMatch(/needs root: run the real install with sudo/);
  });

  it('refuses --socket with launchd and --user without --system (usage, exit 2)', async () => {
    const a = await heph(['daemon', 'install', '--manager', 'launchd', '--socket', '--dry-run']);
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toContain('--socket needs systemd');
    const b = await heph(['daemon', 'install', '--manager', 'systemd', '--user', 'heph', '--dry-run']);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain('--user only applies to a system service');
  });

  it('refuses an invalid config with exit 78, naming the key', async () => {
    const bad = scratch('heph-dinstall-bad-');
    try {
      bad.writeConfig('[update]\nmode = "sometimes"\n');
      const r = await execa(
        process.execPath,
        [pkg.heph, 'daemon', 'install', '--manager', 'systemd', '--dry-run'],
        {
          env: cleanEnv(bad.env),
          extendEnv: false,
          reject: false,
        },
      );
      expect(r.exitCode).toBe(78);
      expect(r.stderr).toContain('update.mode');
    } finally {
      bad.cleanup();
    }
  });
});

describe('heph daemon logs', () => {
  it('refuses a line count that is not one (usage, exit 2)', async () => {
    const r = await heph(['daemon', 'logs', '-n', 'x']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('-n/--lines');
  });
});
