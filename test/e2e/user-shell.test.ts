// A normal user's service under a real systemd user manager, from a shell without
// XDG_RUNTIME_DIR and through the everyday verbs (user-shell-driver.ts does the steps inside
// `unshare -m`; this file asserts on its one result line).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userManagerUnavailable } from '../../scripts/lib/user-manager.mjs';
import { noResult, runDriver } from './harness.js';
import { type PackageTree, packageTree } from './package-tree.js';

const SCENARIO_TIMEOUT_MS = 180_000;

const missing = userManagerUnavailable();
const mustRun = process.env.CI === 'true';
if (missing && !mustRun) console.warn(`test/e2e/user-shell.test.ts skipped: ${missing}`);

// biome-ignore lint/suspicious/noExplicitAny: the driver's JSON result is checked field by field below
type Result = Record<string, any>;
let result: Result = {};
let work = '';
let pkg: PackageTree | null = null;

describe.skipIf(missing !== null && !mustRun)("a normal user's service, from the shells people use", () => {
  beforeAll(async () => {
    if (missing) throw new Error(`CI=true and this machine cannot run the systemd e2e: ${missing}`);
    work = mkdtempSync(join(tmpdir(), 'heph-e2e-shell-'));
    pkg = packageTree();
    chmodSync(pkg.root, 0o755);
    const run = await runDriver({
      entry: 'test/e2e/user-shell-driver.ts',
      work,
      inputVar: 'HEPH_SHELL_INPUT',
      input: { heph: pkg.heph },
      marker: 'SHELL-RESULT',
      timeoutMs: SCENARIO_TIMEOUT_MS,
      onStderr: (c) => process.stderr.write(c),
    });
    if (!run.result) throw noResult(run);
    result = run.result as Result;
    if (!result.ok) console.error(`driver failed: ${result.error}\n${JSON.stringify(result.diagnosis)}`);
  }, SCENARIO_TIMEOUT_MS + 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    if (pkg) rmSync(pkg.root, { recursive: true, force: true });
  });

  it('ran the whole scenario; install waited for a daemon that answers', () => {
    expect(result.error).toBeUndefined();
    expect(result.install.exitCode).toBe(0);
    expect(result.install.stdout).toContain('installed and running');
  });

  it('without XDG_RUNTIME_DIR, status and doctor both find the running service, and say the shell differs', () => {
    expect(result.bareStatus.exitCode).toBe(0);
    expect(JSON.parse(result.bareStatus.stdout)).toMatchObject({ running: true });
    expect(result.bareStatusHuman.stderr).toMatch(
      /the service's socket is .* this shell's environment would look at/,
    );
    const checks = JSON.parse(result.bareDoctor.stdout).checks as { id: string; status: string }[];
    expect(checks.find((c) => c.id === 'daemon')).toMatchObject({ status: 'ok' });
    expect(checks.find((c) => c.id === 'shell-env')).toMatchObject({ status: 'warn' });
  });

  it('`daemon status` in that shell is an error that says how to fix the shell, not "not active" (exit 3)', () => {
    expect(result.bareDaemonStatus.exitCode).toBe(1);
    expect(result.bareDaemonStatus.stderr).toContain('export XDG_RUNTIME_DIR=/run/user/$(id -u)');
  });

  it('install in that shell stops before writing anything, and says how to fix the shell', () => {
    expect(result.bareInstall.exitCode).toBe(1);
    expect(result.bareInstall.stderr).toContain('nothing was changed');
    expect(result.bareInstall.stderr).toContain('export XDG_RUNTIME_DIR=/run/user/$(id -u)');
    expect(result.unitUnchanged).toBe(true);
  });

  it('a restart into a config hephd refuses exits 1 with the unit’s last lines; start after the fix succeeds', () => {
    expect(result.badRestart.exitCode).toBe(1);
    expect(result.badRestart.stderr).toMatch(/hephd\.service did not stay up: it failed \(exit 78/);
    expect(result.badRestart.stderr).toMatch(/\| .*hephd/);
    expect(result.goodStart.exitCode).toBe(0);
  });

  it('status suggests start when stopped, install once uninstalled; --purge leaves no config folder', () => {
    expect(result.stoppedStatus.exitCode).toBe(3);
    expect(result.stoppedStatus.stderr).toContain('heph daemon start');
    expect(result.purge.exitCode).toBe(0);
    expect(result.configDirLeft).toBe(false);
    expect(result.uninstalledStatus.exitCode).toBe(3);
    expect(result.uninstalledStatus.stderr).toContain('heph daemon install');
    expect(result.uninstalledStatus.stderr).not.toContain('heph daemon start');
  });
});
