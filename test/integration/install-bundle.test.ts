// installRelease with real artifacts from `npm run release`, served over loopback HTTP: the happy
// path, and every refusal (tampered asset or SHA256SUMS, wrong digest, wrong or rotated minisign
// key, unsafe tarballs, smoke test, disk preflight, not owned, lock) — each audited as
// update.failed with `current` unchanged and no leftovers in the store.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { type Config, configSchema } from '../../src/config/schema.js';
import { HephError } from '../../src/errors.js';
import { installRelease, switchStaged } from '../../src/install/index.js';
import { readQuarantined } from '../../src/install/launcher-state.js';
import { acquireInstallLock } from '../../src/install/lock.js';
import { probeBundle } from '../../src/install/smoke.js';
import { readStore } from '../../src/install/store.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import {
  type Artifacts,
  assetClient,
  getArtifacts,
  publishRelease,
  type ReleaseServer,
  rawTarball,
  releaseFromFolder,
  replaceInTarball,
  seedStore,
  serveFolder,
  sha256,
} from '../helpers/artifacts.js';

let art: Artifacts;
let home: string;
let root: string;
let server: ReleaseServer;
let deps: Deps;

beforeAll(async () => {
  art = await getArtifacts();
});

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'heph-install-'));
  root = join(home, 'releases');
  const env = { HEPH_HOME: home, PATH: process.env.PATH };
  deps = createDeps({ env, paths: resolvePaths(env) });
  server = await serveFolder(root);
});

afterEach(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

function config(install: Record<string, unknown> = {}): Config {
  return configSchema.parse({ forge: { kind: 'static', url: server.url }, install });
}

function install(version: string, cfg = config(), digests: Record<string, string> = {}, extra = {}) {
  return installRelease({
    config: cfg,
    deps,
    client: assetClient(),
    release: releaseFromFolder(root, version, server.url, digests),
    ...extra,
  });
}

function currentVersionPrints(): string {
  return execFileSync(
    process.execPath,
    [join(deps.paths.store, 'current', 'dist', 'heph.mjs'), '--version'],
    {
      encoding: 'utf8',
    },
  ).trim();
}

/** The refusal contract: the error code, update.failed audited, current unchanged, no leftovers. */
async function expectRefused(p: Promise<unknown>, code: string, current = '1.0.0'): Promise<HephError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HephError);
  expect((err as HephError).code).toBe(code);
  const last = readAudit(deps.paths.auditFile, 1)[0];
  expect(last).toMatchObject({ event: 'update.failed', code });
  expect(readStore(deps.paths).current).toBe(current);
  expect(currentVersionPrints()).toBe(current);
  expect(readdirSync(deps.paths.store).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  return err as HephError;
}

describe('installRelease (bundle)', () => {
  beforeEach(async () => {
    await seedStore(deps.paths, art, '1.0.0');
  });

  it('installs N+1: current -> N+1, previous -> N, the new version runs', async () => {
    publishRelease(root, '1.1.0', art);
    const progress: number[] = [];
    const r = await install('1.1.0', config(), {}, { onProgress: (n: number) => progress.push(n) });
    expect(r).toMatchObject({ version: '1.1.0', method: 'bundle', previous: '1.0.0', alreadyCurrent: false });
    expect(readStore(deps.paths)).toMatchObject({ current: '1.1.0', previous: '1.0.0' });
    expect(currentVersionPrints()).toBe('1.1.0');
    expect(progress.at(-1)).toBe(readFileSync(art.tarball('1.1.0')).length);
    const events = readAudit(deps.paths.auditFile).map((e) => `${e.event} ${e.version}`);
    expect(events).toEqual(['update.installed 1.1.0', 'update.installing 1.1.0']);
    // the same version again: nothing to do
    expect(await install('1.1.0')).toMatchObject({ alreadyCurrent: true });
  });

  it('stages a version outside a maintenance window: in the store, not current, until switchStaged', async () => {
    publishRelease(root, '1.1.0', art);
    const r = await install('1.1.0', config(), {}, { stage: true });
    expect(r).toMatchObject({ version: '1.1.0', staged: true, previous: '1.0.0' });
    // The launcher runs only what `current` names: still 1.0.0.
    expect(readStore(deps.paths)).toMatchObject({ current: '1.0.0', versions: ['1.0.0', '1.1.0'] });
    expect(currentVersionPrints()).toBe('1.0.0');
    expect(readAudit(deps.paths.auditFile, 1)[0]).toMatchObject({ event: 'update.installed', staged: true });
    await switchStaged(config(), deps, '1.1.0');
    expect(readStore(deps.paths)).toMatchObject({ current: '1.1.0', previous: '1.0.0' });
    expect(currentVersionPrints()).toBe('1.1.0');
    await expect(switchStaged(config(), deps, '9.9.9')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('refuses a tampered asset', async () => {
    const dir = publishRelease(root, '1.1.0', art);
    const tgz = join(dir, 'heph-1.1.0.tgz');
    const bytes = readFileSync(tgz);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(tgz, bytes);
    await expectRefused(install('1.1.0'), 'E_VERIFY');
  });

  it.each([
    ['a wrong sum', (hex: string) => `${hex.replace(/^./, hex[0] === 'a' ? 'b' : 'a')}  heph-1.1.0.tgz\n`],
    ['a list without the asset', (hex: string) => `${hex}  heph-9.9.9.tgz\n`],
    ['a malformed line', (hex: string) => `${hex}  heph-1.1.0.tgz\nnot a checksum line\n`],
    ['an empty file', () => ''],
  ])('refuses SHA256SUMS with %s', async (_n, sums) => {
    publishRelease(root, '1.1.0', art, { sums: sums(sha256(art.tarball('1.1.0'))) });
    await expectRefused(install('1.1.0'), 'E_VERIFY');
  });

  it('refuses a wrong GitHub digest and accepts the right one', async () => {
    publishRelease(root, '1.1.0', art);
    await expectRefused(install('1.1.0', config(), { 'heph-1.1.0.tgz': 'f'.repeat(64) }), 'E_VERIFY');
    await install('1.1.0', config(), { 'heph-1.1.0.tgz': sha256(art.tarball('1.1.0')) });
    expect(readStore(deps.paths).current).toBe('1.1.0');
  });

  it('refuses a signature by a key that is not trusted', async () => {
    publishRelease(root, '1.1.0', art, { sign: art.keys.b });
    const err = await expectRefused(
      install('1.1.0', config({ verify: 'minisign', public_keys: [art.keys.a.line] })),
      'E_VERIFY',
    );
    expect(err.message).toMatch(/not in install.public_keys/);
  });

  it('refuses a missing signature, and accepts a rotated second key', async () => {
    publishRelease(root, '1.1.0', art);
    await expectRefused(
      install('1.1.0', config({ verify: 'minisign', public_keys: [art.keys.a.line] })),
      'E_FORGE_NOT_FOUND',
    );
    publishRelease(root, '1.1.0', art, { sign: art.keys.b });
    await install('1.1.0', config({ verify: 'minisign', public_keys: [art.keys.a.line, art.keys.b.line] }));
    expect(readStore(deps.paths).current).toBe('1.1.0');
  });

  it('refuses a signed SHA256SUMS that was changed after signing', async () => {
    const dir = publishRelease(root, '1.1.0', art, { sign: art.keys.a });
    writeFileSync(
      join(dir, 'SHA256SUMS'),
      `${readFileSync(join(dir, 'SHA256SUMS'), 'utf8')}${'0'.repeat(64)}  x\n`,
    );
    await expectRefused(
      install('1.1.0', config({ verify: 'minisign', public_keys: [art.keys.a.line] })),
      'E_VERIFY',
    );
  });

  it.each([
    ['a ".." path', { path: 'package/../../../evil.txt', body: 'x' }],
    ['an absolute path', { path: '/tmp/heph-evil-absolute.txt', body: 'x' }],
    ['a symlink escape', { path: 'package/dist/esc', type: 'symlink', linkpath: '../../../../../etc' }],
  ] as const)('refuses a tarball with %s', async (_n, bad) => {
    const tgz = join(home, 'evil.tgz');
    rawTarball(tgz, [
      { path: 'package/package.json', body: '{"name":"heph","version":"1.1.0"}' },
      { path: 'package/dist/heph.mjs', body: 'console.log("1.1.0")' },
      { path: 'package/dist/hephd.mjs', body: '' },
      bad,
    ]);
    publishRelease(root, '1.1.0', art, { tarball: tgz });
    const err = await expectRefused(install('1.1.0'), 'E_UNSAFE_ARCHIVE');
    expect(err.message).toContain(bad.path);
  });

  it('refuses a release whose bundle fails the smoke test', async () => {
    publishRelease(root, '1.5.0', art, { tarball: art.tarball('1.1.0') }); // prints 1.1.0, claims 1.5.0
    const err = await expectRefused(install('1.5.0'), 'E_SMOKE_TEST');
    expect(err.message).toMatch(/printed "1.1.0"/);
  });

  it.each(['a file', 'a folder'])(
    'a symlink to %s planted where the new version goes: E_IO naming it, not a raw ENOTDIR',
    async (kind) => {
      publishRelease(root, '1.1.0', art);
      const target = join(home, 'victim');
      if (kind === 'a file') writeFileSync(target, 'x');
      else mkdirSync(target);
      const planted = join(deps.paths.store, '1.1.0');
      symlinkSync(target, planted);
      const err = await expectRefused(install('1.1.0'), 'E_IO');
      expect(err.message).toBe(
        `cannot install 1.1.0: ${planted} is in the way (ENOTDIR); heph did not make it; nothing changed`,
      );
      expect(err.hint).toContain('remove it');
      expect(lstatSync(planted).isSymbolicLink()).toBe(true); // left for the operator to look at
    },
  );
  /** Publishes 1.5.0 whose entry prints its version for --version and runs `otherwise` else. */
  async function publishAnswering(otherwise: string): Promise<void> {
    const tgz = join(home, 'heph-1.5.0.tgz');
    copyFileSync(art.tarball('1.1.0'), tgz);
    await replaceInTarball(
      tgz,
      'package/dist/heph.mjs',
      `if (process.argv.includes('--version')) console.log('1.5.0');\nelse ${otherwise}\n`,
    );
    publishRelease(root, '1.5.0', art, { tarball: tgz });
  }

  it('readiness: a version that answers --version but cannot start its daemon is refused and quarantined', async () => {
    // Passes the smoke test, then fails as a daemon would when loading its modules.
    await publishAnswering(
      "{ console.error('Error: Cannot find module ./chunks/forge.mjs'); process.exit(1); }",
    );
    const err = await expectRefused(install('1.5.0'), 'E_SMOKE_TEST');
    expect(err.message).toMatch(
      /1\.5\.0 failed its readiness probe: it exited 1 \(Error: Cannot find module/,
    );
    expect(readQuarantined(deps.paths)).toEqual(['1.5.0']);
  });

  it('readiness: a release from before the probe (its CLI has no `daemon probe`) is installed on its smoke test', async () => {
    // What commander answers for a subcommand it does not know.
    await publishAnswering('{ console.error("error: unknown command \'probe\'"); process.exit(2); }');
    expect(await install('1.5.0')).toMatchObject({ version: '1.5.0', previous: '1.0.0' });
    expect(readQuarantined(deps.paths)).toEqual([]);
  });

  it("readiness: a version that cannot load this machine's config is refused before current moves", async () => {
    publishRelease(root, '1.1.0', art);
    // The token file the new version would need is gone: its forge client cannot be built.
    writeFileSync(
      join(home, 'config.toml'),
      `[update]\nmode = "notify"\n[forge]\nkind = "static"\nurl = "${server.url}"\ntoken_file = "${home}/gone.token"\n`,
    );
    const err = await expectRefused(install('1.1.0'), 'E_SMOKE_TEST');
    expect(err.message).toMatch(/readiness probe: it exited 78 .*gone\.token/);
  });

  it('readiness: a good version passes the probe; one claiming another version does not', async () => {
    publishRelease(root, '1.1.0', art);
    writeFileSync(
      join(home, 'config.toml'),
      `[update]\nmode = "notify"\n[forge]\nkind = "static"\nurl = "${server.url}"\n`,
    );
    expect(await probeBundle(join(deps.paths.store, 'current'), deps.app.entry, '1.0.0', deps.env)).toBe(
      'ready',
    );
    await expect(
      probeBundle(join(deps.paths.store, 'current'), deps.app.entry, '9.9.9', deps.env),
    ).rejects.toThrow(/says it is version 1\.0\.0/);
  });

  it('refuses before downloading when the disk is too full', async () => {
    publishRelease(root, '1.1.0', art);
    await expectRefused(install('1.1.0', config(), {}, { hooks: { freeBytes: () => 1000 } }), 'E_PREFLIGHT');
    expect(server.requests).toEqual([]);
  });

  it('keeps install.keep versions plus current and previous', async () => {
    for (const v of ['1.1.0', '1.2.0', '1.3.0']) {
      publishRelease(root, v, art);
      await install(v, config({ keep: 3 }));
    }
    expect(readStore(deps.paths)).toMatchObject({
      current: '1.3.0',
      previous: '1.2.0',
      versions: ['1.1.0', '1.2.0', '1.3.0'],
    });
  });

  it('runs one install at a time: a second one fails naming the holder, or waits', async () => {
    publishRelease(root, '1.1.0', art);
    const unlock = await acquireInstallLock(deps.paths); // another installer, mid-install
    const locked = await install('1.1.0').catch((e: unknown) => e);
    expect(locked).toMatchObject({ code: 'E_LOCKED' });
    expect((locked as HephError).message).toContain(`pid ${process.pid}`);
    const waiting = install('1.1.0', config(), {}, { lockWaitMs: 60_000 });
    await unlock();
    await waiting;
    expect(readStore(deps.paths)).toMatchObject({ current: '1.1.0', previous: '1.0.0' });
  });
});

describe('installRelease ownership', () => {
  it('refuses to switch versions of a heph the store does not own', async () => {
    publishRelease(root, '1.1.0', art);
    await expect(install('1.1.0')).rejects.toMatchObject({ code: 'E_NOT_OWNED' });
    expect(readStore(deps.paths).current).toBeNull();
  });
});
