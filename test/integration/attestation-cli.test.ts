// End to end through the built CLI: `heph update apply` against the loopback GitHub forge with
// install.verify = "attestation", a release carrying a Sigstore bundle from the test instance
// (test/helpers/sigstore-pki.ts) and install.trusted_root naming that instance.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { readStore } from '../../src/install/store.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { type Artifacts, getArtifacts, seedStore, sha256 } from '../helpers/artifacts.js';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';
import { type BundleOptions, createTestPki, type TestPki } from '../helpers/sigstore-pki.js';

let art: Artifacts;
let pki: TestPki;
let rootFile: string;
let forge: TestForge;
let h: Scratch;

beforeAll(async () => {
  art = await getArtifacts();
  pki = await createTestPki();
  rootFile = pki.rootFile;
});

beforeEach(async () => {
  forge = await startForge({ kind: 'github', repo: 'octo/heph' });
  h = scratch('heph-attest-cli-');
  await seedStore(resolvePaths(h.env), art, '1.0.0');
  h.writeConfig(
    [
      '[forge]',
      'kind = "github"',
      `url = "${forge.url}"`,
      'repo = "octo/heph"',
      '[install]',
      'verify = "attestation"',
      `trusted_root = "${rootFile}"`,
      '[install.attestation]',
      'workflow = ".github/workflows/release.yml"',
      'ref = "refs/tags/v*"',
      '',
    ].join('\n'),
  );
});

afterEach(async () => {
  await forge.close();
  h.cleanup();
});

async function publish(version: string, bundle: Partial<BundleOptions>): Promise<void> {
  const tgz = art.tarball(version);
  const digest = sha256(tgz);
  const b = await pki.makeBundle({
    sha256: digest,
    name: `heph-${version}.tgz`,
    claims: { ref: `refs/tags/v${version}` },
    ...bundle,
  });
  forge.publish({
    tag: `v${version}`,
    assets: [
      { name: `heph-${version}.tgz`, file: tgz },
      { name: 'SHA256SUMS', content: `${digest}  heph-${version}.tgz\n` },
      { name: `heph-${version}.tgz.sigstore.json`, content: JSON.stringify(b) },
    ],
  });
}

describe('heph update apply with verify = "attestation"', () => {
  it('installs a release attested by the configured workflow', async () => {
    await publish('1.2.0', {});
    const r = await runHeph(['update', 'apply', '--version', '1.2.0', '--yes'], h.env, { timeout: 60_000 });
    expect(r.stderr).not.toMatch(/refused/);
    expect(r.exitCode).toBe(0);
    expect(readStore(resolvePaths(h.env)).current).toBe('1.2.0');
    expect(forge.requests.map((q) => q.path)).toContain(
      '/octo/heph/releases/download/v1.2.0/heph-1.2.0.tgz.sigstore.json',
    );
  });

  it('refuses one built by another workflow: exit 1, the rule named, update.failed audited', async () => {
    await publish('1.2.0', {
      claims: { workflow: '.github/workflows/nightly.yml', ref: 'refs/tags/v1.2.0' },
    });
    const r = await runHeph(['update', 'apply', '--version', '1.2.0', '--yes'], h.env, { timeout: 60_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/attestation refused \(wrong workflow\).*nightly\.yml/);
    const paths = resolvePaths(h.env);
    expect(readStore(paths).current).toBe('1.0.0');
    expect(readAudit(paths.auditFile, 1)[0]).toMatchObject({ event: 'update.failed', code: 'E_VERIFY' });
  });
});
