// Runtime requirements, the pure parts and the service-node lookup: engines.node against a node
// version, the node a systemd unit runs (a real executable answering --version), the refusal and
// its record, and selection skipping a refused version with reason `runtime`.
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { readAudit } from '../../src/audit/log.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HephError } from '../../src/errors.js';
import { checkRuntime, nodeAccepts, readRuntimeRefusals, runtimeBlocks } from '../../src/install/runtime.js';
import { createDeps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { select } from '../../src/release/select.js';
import type { SelectionPolicy } from '../../src/release/types.js';
import { serviceNode } from '../../src/service/service-node.js';
import { tempDir } from '../helpers/tmp.js';

function home() {
  const dir = tempDir('heph-runtime-');
  const env = { HEPH_HOME: dir, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config') };
  return { dir, env, deps: createDeps({ env, paths: resolvePaths(env) }) };
}

/** A "node" that says `version`, and a user unit whose ExecStart runs it. */
function unitWithNode(dir: string, version: string): string {
  const node = join(dir, 'fake-node');
  writeFileSync(node, `#!/bin/sh\necho v${version}\n`);
  chmodSync(node, 0o755);
  const units = join(dir, 'config', 'systemd', 'user');
  mkdirSync(units, { recursive: true });
  writeFileSync(
    join(units, 'hephd.service'),
    `[Service]\nExecStart=${node} ${dir}/bin/hephd\nRestart=always\n`,
  );
  return node;
}

function release(dir: string, engines?: string): string {
  const pkg = join(dir, `pkg-${Math.random().toString(16).slice(2)}`);
  mkdirSync(pkg);
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'heph', version: '2.0.0', engines: engines && { node: engines } }),
  );
  return pkg;
}

describe('nodeAccepts', () => {
  it.each([
    ['>=20.18', '20.18.0', true],
    ['>=20.18', '20.17.9', false],
    ['^20.17.0 || >=22.9.0', '22.11.0', true],
    ['^20.17.0 || >=22.9.0', '21.7.3', false],
    ['>=22', '22.0.0-nightly2024', true],
    ['not a range', '20.0.0', true],
  ])('%s accepts %s: %s', (range, node, ok) => {
    expect(nodeAccepts(range, node)).toBe(ok);
  });
});

describe('the service node', () => {
  const linux = { platform: 'linux' as const, systemdBooted: true };
  it("is the unit's ExecStart node, asked for its version", () => {
    const h = home();
    const node = unitWithNode(h.dir, '18.20.4');
    expect(serviceNode({ env: h.env, home: h.dir, facts: linux })).toEqual({
      path: node,
      version: '18.20.4',
      source: 'unit',
    });
  });
  it('is this process when no unit is installed (or no manager runs)', () => {
    const h = home();
    expect(serviceNode({ env: h.env, home: h.dir, facts: linux })).toEqual({
      path: process.execPath,
      version: process.versions.node,
      source: 'this process',
    });
    unitWithNode(h.dir, '18.20.4');
    expect(
      serviceNode({ env: h.env, home: h.dir, facts: { platform: 'linux', systemdBooted: false } }).source,
    ).toBe('this process');
  });
});

describe('checkRuntime', () => {
  const old = { path: '/opt/node18/bin/node', version: '18.20.4', source: 'unit' as const };
  it('refuses a release the service node cannot run, naming both, and records it', async () => {
    const h = home();
    const err = await checkRuntime(release(h.dir, '>=20.18'), '2.0.0', h.deps, old).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HephError);
    expect((err as HephError).message).toBe(
      'heph 2.0.0 needs node >=20.18 (its package.json engines.node), but the service runs node 18.20.4 (/opt/node18/bin/node)',
    );
    expect((err as HephError).details).toMatchObject({
      reason: 'runtime',
      needs: '>=20.18',
      node: '18.20.4',
    });
    expect(readRuntimeRefusals(h.deps.paths)).toMatchObject([
      { version: '2.0.0', needs: '>=20.18', node: '18.20.4' },
    ]);
    // still refused for that node; eligible again once the service runs a newer one
    expect(await runtimeBlocks(h.deps, old)).toHaveLength(1);
    expect(await runtimeBlocks(h.deps, { ...old, version: '22.11.0' })).toEqual([]);
  });
  it('lets through a release that accepts it, or sets no engines.node', async () => {
    const h = home();
    await checkRuntime(release(h.dir, '>=18'), '2.0.0', h.deps, old);
    await checkRuntime(release(h.dir), '2.0.0', h.deps, old);
    expect(readRuntimeRefusals(h.deps.paths)).toEqual([]);
    expect(await runtimeBlocks(h.deps, old)).toEqual([]);
  });
});

describe('selection', () => {
  const policy: SelectionPolicy = {
    channel: 'stable',
    allowMajor: true,
    minReleaseAgeMs: 0,
    rolloutWindowMs: 0,
    tagPrefix: 'v',
    asset: '',
    quarantined: [],
    paused: false,
    runtimeBlocked: [{ version: '1.2.0', needs: '>=22', node: '20.18.0' }],
  };
  const rel = (v: string) => ({
    tag: `v${v}`,
    name: v,
    notes: '',
    draft: false,
    prerelease: false,
    publishedAt: '2026-01-01T00:00:00Z',
    url: `https://x/v${v}`,
    assets: [],
  });
  it('skips a release refused for its runtime, saying which node it needs', () => {
    const s = select({
      releases: [rel('1.2.0')],
      current: '1.0.0',
      policy,
      now: Date.parse('2026-06-01'),
      bucket: 0,
    });
    expect(s).toMatchObject({ candidate: null, reason: 'runtime', requires: { node: '>=22' } });
    expect(s.detail).toBe('1.2.0 needs node >=22 (its engines.node); the service runs node 20.18.0');
  });
  it('still takes a lower release that runs', () => {
    const s = select({
      releases: [rel('1.2.0'), rel('1.1.0')],
      current: '1.0.0',
      policy,
      now: Date.parse('2026-06-01'),
      bucket: 0,
    });
    expect(s.candidate?.version).toBe('1.1.0');
  });
});

describe('runtime.json', () => {
  it('is set aside when corrupt, reported in the audit log, and read as no refusals', () => {
    const h = home();
    mkdirSync(h.deps.paths.state, { recursive: true });
    writeFileSync(join(h.deps.paths.state, 'runtime.json'), '{"refused":[{"version":1}]}');
    expect(readRuntimeRefusals(h.deps.paths)).toEqual([]);
    expect(readdirSync(h.deps.paths.state).some((n) => n.startsWith('runtime.json.corrupt-'))).toBe(true);
    expect(readAudit(h.deps.paths.auditFile, 1)[0]).toMatchObject({ event: 'state.corrupt' });
  });
});
