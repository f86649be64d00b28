// Auto mode with real release artifacts: a supervised hephd (INVOCATION_ID plus a .service cgroup
// under HEPH_DEV_PROBE_ROOT) installs N+1, audits and exits 0; the new version starts with the
// guard's cooldown in force; without a supervisor it stays up with a pending restart; in a
// container it only notifies.
import { readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { readState } from '../../src/update/state.js';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';
import { type Artifacts, getArtifacts, seedStore } from '../helpers/artifacts.js';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import {
  plainProbeRoot,
  type RunningDaemon,
  startDaemon,
  systemdProbeRoot,
  waitFor,
} from '../helpers/daemon.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

/** Scaled polls (~3 s) plus a real download, verify, extract and smoke test on a 2-core machine. */
const AUTO_WAIT_MS = 60_000;

let art: Artifacts;
let s: Scratch;
let paths: Paths;
let forge: TestForge;
const running: RunningDaemon[] = [];

beforeAll(async () => {
  art = await getArtifacts();
}, 600_000);

beforeEach(async () => {
  s = scratch('heph-dauto-');
  paths = resolvePaths({ HEPH_HOME: s.home });
  forge = await startForge({ kind: 'github' });
  await seedStore(paths, art, '1.0.0');
  forge.publishArtifacts('1.0.0', join(art.dir, '1.0.0'));
  forge.publishArtifacts('1.1.0', join(art.dir, '1.1.0'));
  s.writeConfig(
    `[update]\nmode = "auto"\ninterval = "5m"\n\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n`,
  );
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('SIGKILL').catch(() => {});
  await forge.close();
  s.cleanup();
});

async function startVersion(version: string, env: Record<string, string>): Promise<RunningDaemon> {
  const d = await startDaemon({
    home: s.home,
    entry: join(paths.store, version, 'dist', 'hephd.mjs'),
    env: { HEPH_DEV_SCHEDULE_SCALE: '0.01', ...env },
  });
  running.push(d);
  return d;
}

const events = () => readAudit(paths.auditFile).reverse();
const current = () => readlinkSync(join(paths.store, 'current'));

describe('auto mode with real artifacts', () => {
  it('supervised: installs N+1, audits installed and restarting, exits 0; N+1 starts under the cooldown', async () => {
    const env = { INVOCATION_ID: 'test-invocation', HEPH_DEV_PROBE_ROOT: systemdProbeRoot() };
    const d = await startVersion('1.0.0', env);
    expect((await d.call('GET', '/v1/status')).body).toMatchObject({
      version: '1.0.0',
      supervisor: 'systemd',
    });
    const exit = await Promise.race([
      d.exited,
      new Promise<never>((_, j) => setTimeout(() => j(new Error(`no exit:\n${d.output()}`)), AUTO_WAIT_MS)),
    ]);
    expect(exit.code).toBe(0);
    running.splice(0);
    expect(current()).toBe('1.1.0');
    const names = events().map((e) => [e.event, e.version]);
    expect(names).toEqual(
      expect.arrayContaining([
        ['update.available', '1.1.0'],
        ['update.installing', '1.1.0'],
        ['update.installed', '1.1.0'],
        ['update.restarting', '1.1.0'],
      ]),
    );
    expect(names.findIndex((n) => n[0] === 'update.restarting')).toBeGreaterThan(
      names.findIndex((n) => n[0] === 'update.installed'),
    );
    expect(readState(paths).guard.restarts).toHaveLength(1);

    // What systemd would do next: start the (new) current version.
    forge.publishArtifacts('1.2.0', join(art.dir, '1.2.0'));
    const next = await startVersion('1.1.0', env);
    const st = (await next.call('GET', '/v1/status')).body;
    expect(st).toMatchObject({ version: '1.1.0', pendingRestart: null });
    expect(st.guard.restartsInWindow).toBe(1);
    expect(st.guard.cooldownUntil).not.toBeNull();
    await waitFor(
      'the cooldown block',
      () => events().some((e) => e.event === 'update.blocked' && e.version === '1.2.0'),
      AUTO_WAIT_MS,
    );
    const seen = forge.requests.length;
    await waitFor('two more polls', () => forge.requests.length >= seen + 2, AUTO_WAIT_MS);
    const blocked = events().filter((e) => e.event === 'update.blocked');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({ version: '1.2.0', reason: 'cooldown' });
    expect(current()).toBe('1.1.0');
    expect(next.proc.exitCode).toBeNull();
  });

  it('no supervisor: installs, keeps running, status shows the pending restart', async () => {
    const d = await startVersion('1.0.0', { HEPH_DEV_PROBE_ROOT: plainProbeRoot() });
    await waitFor(
      'the install',
      async () => (await d.call('GET', '/v1/status')).body.pendingRestart === '1.1.0',
      AUTO_WAIT_MS,
    );
    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.version).toBe('1.0.0');
    expect(st.supervisor).toBe('none');
    expect(st.guard.recommendedAction).toContain('without a supervisor');
    expect(current()).toBe('1.1.0');
    expect(events().some((e) => e.event === 'update.installed' && e.version === '1.1.0')).toBe(true);
    expect(events().some((e) => e.event === 'update.restarting')).toBe(false);
    expect(d.proc.exitCode).toBeNull();
  });

  it('in a container: only notifies, with the reason audited once', async () => {
    const root = plainProbeRoot();
    writeFileSync(join(root, '.dockerenv'), '');
    const d = await startVersion('1.0.0', {
      HEPH_DEV_PROBE_ROOT: root,
      INVOCATION_ID: 'x',
    });
    await waitFor(
      'the container block',
      () => events().some((e) => e.event === 'update.blocked'),
      AUTO_WAIT_MS,
    );
    const seen = forge.requests.length;
    await waitFor('two more polls', () => forge.requests.length >= seen + 2, AUTO_WAIT_MS);
    const blocked = events().filter((e) => e.event === 'update.blocked');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({ version: '1.1.0', reason: 'container' });
    expect(events().some((e) => e.event === 'update.installing')).toBe(false);
    expect(events().filter((e) => e.event === 'update.available')).toHaveLength(1);
    expect(current()).toBe('1.0.0');
    const st = (await d.call('GET', '/v1/status')).body;
    expect(st.container).toBe('/.dockerenv');
    expect(st.reason).toContain('container');
  });

  it('`heph update apply` installs, then the supervised daemon restarts into it (drain, exit 0)', async () => {
    s.writeConfig(
      `[update]\nmode = "notify"\ninterval = "5m"\n\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n`,
    );
    const d = await startVersion('1.0.0', { INVOCATION_ID: 'test', HEPH_DEV_PROBE_ROOT: systemdProbeRoot() });
    const r = await runHeph(['update', 'apply', '--yes', '--json'], s.env, { timeout: AUTO_WAIT_MS });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ installed: true, version: '1.1.0', daemon: 'restarting' });
    expect((await d.exited).code).toBe(0);
    running.splice(0);
    expect(current()).toBe('1.1.0');
    expect(events().find((e) => e.event === 'update.restarting')).toMatchObject({
      version: '1.1.0',
      by: 'apply',
    });
  });
});
