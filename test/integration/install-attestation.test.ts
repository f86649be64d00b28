// installRelease with verify = "attestation": real release artifacts served over loopback HTTP,
// Sigstore bundles from a test instance (test/helpers/sigstore-pki.ts) placed where releases
// carry them. A verified release installs; every refusal is update.failed naming the rule, with
// `current` unchanged, before the tarball is even downloaded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appNames, HEPH_APP } from '../../src/app/identity.js';
import { readAudit } from '../../src/audit/log.js';
import { type Config, configSchema } from '../../src/config/schema.js';
import { HephError } from '../../src/errors.js';
import { installRelease } from '../../src/install/index.js';
import { readStore } from '../../src/install/store.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import {
  type Artifacts,
  assetClient,
  getArtifacts,
  publishRelease,
  type ReleaseServer,
  releaseFromFolder,
  seedStore,
  serveFolder,
  sha256,
} from '../helpers/artifacts.js';
import { type BundleOptions, createTestPki, type TestPki } from '../helpers/sigstore-pki.js';

let art: Artifacts;
let pki: TestPki;
let rootFile: string;
let home: string;
let root: string;
let server: ReleaseServer;
let deps: Deps;

beforeAll(async () => {
  art = await getArtifacts();
  pki = await createTestPki();
  rootFile = pki.rootFile;
});

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'heph-attest-'));
  root = join(home, 'releases');
  const env = { HEPH_HOME: home, PATH: process.env.PATH };
  deps = createDeps({ env, paths: resolvePaths(env) });
  server = await serveFolder(root);
  await seedStore(deps.paths, art, '1.0.0');
});

afterEach(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

function config(install: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    forge: { kind: 'static', url: server.url },
    install: {
      verify: 'attestation',
      trusted_root: rootFile,
      attestation: { repo: 'octo/heph', workflow: '.github/workflows/release.yml' },
      ...install,
    },
  });
}

/** Publishes 1.2.0 with `files` (name → bundle objects, one per line) beside the tarball. */
async function publish(files: Record<string, Partial<BundleOptions>[]>): Promise<string> {
  const dir = publishRelease(root, '1.2.0', art);
  const digest = sha256(art.tarball('1.2.0'));
  for (const [name, list] of Object.entries(files)) {
    const bundles = await Promise.all(
      list.map((o) => pki.makeBundle({ sha256: digest, name: 'heph-1.2.0.tgz', ...o })),
    );
    writeFileSync(join(dir, name), bundles.map((b) => JSON.stringify(b)).join('\n'));
  }
  return dir;
}

function install(cfg = config()) {
  return installRelease({
    config: cfg,
    deps,
    client: assetClient(),
    release: releaseFromFolder(root, '1.2.0', server.url),
  });
}

async function refused(p: Promise<unknown>, message: RegExp, code = 'E_VERIFY'): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HephError);
  expect((err as HephError).code).toBe(code);
  expect((err as HephError).message).toMatch(message);
  expect(readAudit(deps.paths.auditFile, 1)[0]).toMatchObject({
    event: 'update.failed',
    version: '1.2.0',
    code,
    error: expect.stringMatching(message),
  });
  // the rule, machine-readable, for an attestation refusal; no such field for other failures
  const rule = (err as HephError).details.rule;
  expect(readAudit(deps.paths.auditFile, 1)[0]!.rule).toBe(code === 'E_VERIFY' ? rule : undefined);
  if (code === 'E_VERIFY') expect(rule).toMatch(/^[a-z-]+$/);
  expect(readStore(deps.paths).current).toBe('1.0.0');
  // refused on SHA256SUMS's digest, before the tarball was downloaded
  expect(server.requests).not.toContain('/v1.2.0/heph-1.2.0.tgz');
}

describe('verify = "attestation"', () => {
  it.each([['heph-1.2.0.tgz.sigstore.json'], ['heph-1.2.0.tgz.intoto.jsonl'], ['attestations.jsonl']])(
    'installs a release attested by the configured workflow (%s)',
    async (file) => {
      await publish({ [file]: [{}] });
      const r = await install();
      expect(r).toMatchObject({ version: '1.2.0', previous: '1.0.0' });
      expect(readStore(deps.paths).current).toBe('1.2.0');
    },
  );

  it('picks the bundle about this asset out of a release-wide attestations.jsonl', async () => {
    await publish({
      'attestations.jsonl': [{ sha256: 'c'.repeat(64), name: 'other.zip' }, {}, { sha256: 'd'.repeat(64) }],
    });
    await install();
    expect(readStore(deps.paths).current).toBe('1.2.0');
  });

  it('refuses a release without an attestation', async () => {
    await publish({});
    await refused(install(), /no attestation bundle.*heph-1\.2\.0\.tgz\.sigstore\.json/);
  });

  it.each([
    ['wrong workflow', 'workflow', { claims: { workflow: '.github/workflows/ci.yml' } }],
    ['wrong repository', 'repo', { claims: { repo: 'mallory/heph' } }],
    ['wrong ref', 'ref', { claims: { ref: 'refs/heads/main' } }],
    ['self-hosted runner', 'runner', { claims: { runner: 'self-hosted' } }],
    ['digest mismatch', 'digest', { sha256: 'e'.repeat(64) }],
    ['untrusted certificate chain', 'untrusted-root', { signer: 'rogue' as const }],
  ])('refuses (%s) and audits update.failed with the rule (%s)', async (title, rule, opts) => {
    await publish({ 'heph-1.2.0.tgz.sigstore.json': [opts] });
    await refused(install(), new RegExp(`attestation refused \\(${title}\\)`));
    expect(readAudit(deps.paths.auditFile, 1)[0]).toMatchObject({ event: 'update.failed', rule });
  });

  it("refuses against heph's own trusted root, which does not know the test instance, and says to refresh it", async () => {
    await publish({ 'heph-1.2.0.tgz.sigstore.json': [{}] });
    const err = await install(config({ trusted_root: '' })).catch((e: unknown) => e);
    expect((err as HephError).hint).toMatch(/gh attestation trusted-root.*install\.trusted_root/);
    await refused(
      install(config({ trusted_root: '' })),
      /attestation refused \(untrusted certificate chain\)/,
    );
  });

  it('refuses an attested v1.0.0 build uploaded again as v1.2.0, before downloading it (wrong ref)', async () => {
    // the digest matches (the statement names these very bytes); only the ref tells the releases apart
    await publish({ 'heph-1.2.0.tgz.sigstore.json': [{ claims: { ref: 'refs/tags/v1.0.0' } }] });
    await refused(
      install(
        config({
          attestation: { repo: 'octo/heph', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' },
        }),
      ),
      /attestation refused \(wrong ref\): built from refs\/tags\/v1\.0\.0, but the release is tagged v1\.2\.0/,
    );
  });

  it("names an embedding app in the advice, not heph (the app's own name from deps.app)", async () => {
    await publish({ 'heph-1.2.0.tgz.sigstore.json': [{}] });
    deps = createDeps({ app: { ...HEPH_APP, ...appNames('acme') }, env: deps.env, paths: deps.paths });
    const err = (await install(config({ trusted_root: '' })).catch((e: unknown) => e)) as HephError;
    expect(err.hint).toMatch(/a Sigstore instance acme trusts.*or upgrade acme$/);
  });

  it('names install.trusted_root when the file is not a trusted root', async () => {
    await publish({ 'heph-1.2.0.tgz.sigstore.json': [{}] });
    const bad = join(home, 'root.json');
    writeFileSync(bad, '{"mediaType":"text/plain"}');
    await refused(
      install(config({ trusted_root: bad })),
      /install\.trusted_root: .*root\.json is not a Sigstore trusted root/,
      'E_CONFIG',
    );
    expect(readFileSync(bad, 'utf8')).toContain('text/plain');
  });
});
