// install.method = "npm" with the real npm against a registry on loopback (test/helpers/
// npm-registry.ts): with verify = "sha256" the tarball npm installs is the one checked against
// the release's SHA256SUMS, a registry serving other bytes installs nothing, and npm's own
// failures reach the user with npm's error lines and a typed code.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { configSchema } from '../../src/config/schema.js';
import type { HephError } from '../../src/errors.js';
import { installRelease } from '../../src/install/index.js';
import { readRuntimeRefusals } from '../../src/install/runtime.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import type { VersionedRelease } from '../../src/release/types.js';
import { assetClient, type ReleaseServer, serveFolder } from '../helpers/artifacts.js';
import { type PackedVersion, startNpmRegistry, type TestRegistry } from '../helpers/npm-registry.js';

let home: string;
let prefix: string;
let deps: Deps;
let registry: TestRegistry;
let releases: ReleaseServer;

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'heph-npm-'));
  prefix = join(home, 'npm-global');
  registry = await startNpmRegistry();
  mkdirSync(join(home, 'releases'));
  releases = await serveFolder(join(home, 'releases'));
  // npm as a user runs it, pointed at the loopback registry and a global prefix of its own;
  // node on PATH for npm's `#!/usr/bin/env node` scripts, wherever this node lives.
  const env = {
    HEPH_HOME: home,
    HOME: home,
    PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
    npm_config_registry: registry.url,
    npm_config_prefix: prefix,
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_fetch_retries: '0',
  };
  deps = createDeps({ env, paths: resolvePaths(env) });
});
afterEach(async () => {
  await registry.close();
  await releases.close();
  rmSync(home, { recursive: true, force: true });
});

/** The forge's release v<version>, its SHA256SUMS listing `sums` (name → hex), served over HTTP. */
function forgeRelease(version: string, sums: Record<string, string> | null): VersionedRelease {
  const dir = join(home, 'releases', `v${version}`);
  mkdirSync(dir, { recursive: true });
  const assets = [];
  if (sums !== null) {
    const text = Object.entries(sums)
      .map(([name, hex]) => `${hex}  ${name}\n`)
      .join('');
    writeFileSync(join(dir, 'SHA256SUMS'), text);
    assets.push({
      name: 'SHA256SUMS',
      url: `${releases.url}/v${version}/SHA256SUMS`,
      size: text.length,
      sha256: null,
    });
  }
  return {
    tag: `v${version}`,
    version,
    name: `v${version}`,
    notes: '',
    draft: false,
    prerelease: false,
    publishedAt: '2026-01-01T00:00:00Z',
    url: '',
    assets,
  };
}

function install(release: VersionedRelease, over: Record<string, unknown> = {}) {
  return installRelease({
    config: configSchema.parse({ install: { method: 'npm', npm_package: 'heph', ...over } }),
    deps,
    client: assetClient(),
    release,
  });
}

const installedBin = () => join(prefix, 'bin', 'heph');
const tarballAsked = (p: PackedVersion) => registry.requests.filter((r) => r.endsWith(`/-/${p.filename}`));

describe('method npm with verify = "sha256" (the default)', () => {
  it('installs the tarball it checked against the release SHA256SUMS, with the real npm', async () => {
    registry.publish('heph', '1.0.0');
    const packed = registry.publish('heph', '1.1.0');
    const r = await install(forgeRelease('1.1.0', { [packed.filename]: packed.sha256 }));
    expect(r).toMatchObject({ method: 'npm', version: '1.1.0' });
    expect(existsSync(installedBin())).toBe(true); // the smoke test ran it: it printed 1.1.0
    expect(releases.requests).toEqual(['/v1.1.0/SHA256SUMS']);
    expect(tarballAsked(packed)).toHaveLength(1); // fetched once: checked, then installed from that file
    expect(readAudit(deps.paths.auditFile).map((e) => e.event)).toEqual([
      'update.installed',
      'update.installing',
    ]); // newest first
  });

  it('a registry serving other bytes than the release installs nothing (E_VERIFY)', async () => {
    const packed = registry.publish('heph', '1.1.0');
    const evil = registry.publish('heph-evil', '1.1.0'); // a real tarball, just not the released one
    registry.swap('heph', '1.1.0', evil.data);
    const e = (await install(forgeRelease('1.1.0', { [packed.filename]: packed.sha256 })).catch(
      (x: unknown) => x,
    )) as HephError;
    expect(e.code).toBe('E_VERIFY');
    expect(e.message).toContain(`${packed.filename}: SHA-256 ${evil.sha256} does not match SHA256SUMS`);
    expect(existsSync(installedBin())).toBe(false);
    expect(readAudit(deps.paths.auditFile)[0]).toMatchObject({
      event: 'update.failed',
      code: 'E_VERIFY',
    });
  });

  it('a release whose SHA256SUMS does not list the package tarball installs nothing', async () => {
    registry.publish('heph', '1.1.0');
    const e = (await install(forgeRelease('1.1.0', { 'other.tgz': 'a'.repeat(64) })).catch(
      (x: unknown) => x,
    )) as HephError;
    expect(e.code).toBe('E_VERIFY');
    expect(e.message).toBe("SHA256SUMS of v1.1.0 does not list heph-1.1.0.tgz (the npm package's tarball)");
    expect(existsSync(installedBin())).toBe(false);
  });
});

describe('engines.node of the npm package', () => {
  // the service node, as checkRuntime finds it with no unit installed: the node on this PATH
  const node = () => execFileSync('node', ['--version'], { env: deps.env, encoding: 'utf8' }).trim().slice(1);

  it.each([['sha256'], ['none']])(
    'refuses a package the service node cannot run before npm install -g (verify = %s)',
    async (verify) => {
      const packed = registry.publish('heph', '1.1.0', { enginesNode: '>=99' });
      const sums = verify === 'none' ? null : { [packed.filename]: packed.sha256 };
      const e = (await install(forgeRelease('1.1.0', sums), { verify }).catch(
        (x: unknown) => x,
      )) as HephError;
      expect(e.code).toBe('E_PREFLIGHT');
      expect(e.details.reason).toBe('runtime');
      expect(e.message).toBe(
        `heph 1.1.0 needs node >=99 (its package.json engines.node), but the service runs node ${node()} (${e.details.nodePath})`,
      );
      expect(existsSync(installedBin())).toBe(false);
      expect(readAudit(deps.paths.auditFile)[0]).toMatchObject({
        event: 'update.failed',
        code: 'E_PREFLIGHT',
        error: expect.stringContaining('needs node >=99'),
      });
      // remembered: selection skips 1.1.0 with reason runtime until the service's node changes
      expect(readRuntimeRefusals(deps.paths)).toMatchObject([{ version: '1.1.0', needs: '>=99' }]);
    },
  );

  it('reads engines.node whatever the tarball names its one folder (npm installs any), and refuses a tarball with no package.json', async () => {
    registry.publish('heph', '1.1.0');
    const work = mkdtempSync(join(tmpdir(), 'heph-npm-odd-'));
    try {
      // A registry tarball from another packer: its folder is node/, not npm's package/.
      mkdirSync(join(work, 'node', 'bin'), { recursive: true });
      writeFileSync(
        join(work, 'node', 'package.json'),
        JSON.stringify({
          name: 'heph',
          version: '1.1.0',
          bin: { heph: 'bin/heph.js' },
          engines: { node: '>=99' },
        }),
      );
      writeFileSync(join(work, 'node', 'bin', 'heph.js'), '#!/usr/bin/env node\nconsole.log("1.1.0");\n');
      const odd = join(work, 'odd.tgz');
      await tar.c({ gzip: true, file: odd, cwd: work, portable: true }, ['node']);
      registry.swap('heph', '1.1.0', readFileSync(odd));
      const e = (await install(forgeRelease('1.1.0', null), { verify: 'none' }).catch(
        (x: unknown) => x,
      )) as HephError;
      expect(e.code).toBe('E_PREFLIGHT');
      expect(e.message).toContain('needs node >=99');
      expect(existsSync(installedBin())).toBe(false);

      // No package.json at all: refused by name, not by tar's words, and nothing installed.
      rmSync(join(work, 'node', 'package.json'));
      await tar.c({ gzip: true, file: odd, cwd: work, portable: true }, ['node']);
      registry.swap('heph', '1.1.0', readFileSync(odd));
      const none = (await install(forgeRelease('1.1.0', null), { verify: 'none' }).catch(
        (x: unknown) => x,
      )) as HephError;
      expect(none.code).toBe('E_UNSAFE_ARCHIVE');
      expect(none.message).toContain('holds no package.json');
      expect(existsSync(installedBin())).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('installs a package whose engines.node accepts the service node', async () => {
    const packed = registry.publish('heph', '1.1.0', { enginesNode: `>=${node().split('.')[0]}` });
    await install(forgeRelease('1.1.0', { [packed.filename]: packed.sha256 }));
    expect(existsSync(installedBin())).toBe(true);
  });
});

describe("npm's own failures", () => {
  it('a version the registry does not have: npm error lines (ETARGET) and E_NOT_FOUND, not E_INTERNAL', async () => {
    registry.publish('heph', '1.0.0');
    const e = (await install(forgeRelease('1.1.0', null), { verify: 'none' }).catch(
      (x: unknown) => x,
    )) as HephError;
    expect(e.code).toBe('E_NOT_FOUND');
    expect(e.message).toMatch(
      /^npm pack heph@1\.1\.0 --json --pack-destination \S+ failed \(exit 1\): npm (error|ERR!) code ETARGET/,
    );
    expect(e.message).toContain('No matching version found for heph@1.1.0');
    expect(e.message).not.toContain('A complete log of this run');
    expect(readAudit(deps.paths.auditFile)[0]).toMatchObject({
      event: 'update.failed',
      code: 'E_NOT_FOUND',
    });
  });

  it('an unreachable registry is E_FORGE_UNREACHABLE naming npm and its error', async () => {
    const gone = await startNpmRegistry();
    const url = gone.url;
    await gone.close();
    deps = createDeps({ env: { ...deps.env, npm_config_registry: url }, paths: deps.paths });
    const e = (await install(forgeRelease('1.1.0', null), { verify: 'none' }).catch(
      (x: unknown) => x,
    )) as HephError;
    expect(e.code).toBe('E_FORGE_UNREACHABLE');
    expect(e.message).toMatch(
      /^npm pack heph@1\.1\.0 --json --pack-destination \S+ failed \(exit 1\): npm (error|ERR!) code ECONNREFUSED/,
    );
  });
});
