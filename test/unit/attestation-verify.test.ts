// verifyAttestation over a Sigstore instance made in the test (test/helpers/sigstore-pki.ts,
// shaped like GitHub's: RFC 3161 timestamps, no transparency log): one good bundle, then one
// bundle per rule, each breaking exactly that rule.
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttestationPolicy } from '../../src/install/attestation/policy.js';
import { ruleOf } from '../../src/install/attestation/refusal.js';
import { verifyAttestation } from '../../src/install/attestation/verify.js';
import { type BundleOptions, createTestPki, DEFAULT_CLAIMS, type TestPki } from '../helpers/sigstore-pki.js';

const SHA = 'a'.repeat(64);
const policy: AttestationPolicy = {
  repo: DEFAULT_CLAIMS.repo,
  workflow: DEFAULT_CLAIMS.workflow,
  ref: 'refs/tags/v*',
  issuer: DEFAULT_CLAIMS.issuer,
  githubHostedOnly: true,
};

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

async function outcome(
  opts: Partial<BundleOptions>,
  over: { policy?: Partial<AttestationPolicy>; now?: Date } = {},
) {
  const bundle = await pki.makeBundle({ sha256: SHA, ...opts });
  try {
    const r = verifyAttestation({
      bundle,
      assetSha256: SHA,
      assetName: 'heph-1.2.0.tgz',
      policy: { ...policy, ...over.policy },
      trustedRoot: pki.trustedRoot,
      now: over.now ?? new Date(),
    });
    return { rule: null, identity: r.identity, message: '' };
  } catch (e) {
    return { rule: ruleOf(e), identity: null, message: (e as Error).message };
  }
}

describe('a test Sigstore instance', () => {
  it('accepts a bundle made by the configured workflow, and reads every claim', async () => {
    const r = await outcome({});
    expect(r.message).toBe('');
    expect(r.identity).toMatchObject({
      issuer: DEFAULT_CLAIMS.issuer,
      sourceRepositoryUri: 'https://github.com/octo/heph',
      sourceRepositoryRef: 'refs/tags/v1.2.0',
      runnerEnvironment: 'github-hosted',
      buildConfigUri: 'https://github.com/octo/heph/.github/workflows/release.yml@refs/tags/v1.2.0',
    });
  });

  it('takes the repository name in any case (GitHub treats it so)', async () => {
    expect((await outcome({}, { policy: { repo: 'Octo/HEPH' } })).rule).toBe(null);
  });

  it('accepts a self-hosted runner when github_hosted_only is false', async () => {
    const r = await outcome({ claims: { runner: 'self-hosted' } }, { policy: { githubHostedOnly: false } });
    expect(r.rule).toBe(null);
  });

  const refusals: [string, Partial<BundleOptions>, Partial<AttestationPolicy>, RegExp][] = [
    ['repo', { claims: { repo: 'mallory/heph' } }, {}, /wrong repository.*mallory\/heph.*octo\/heph/],
    ['repo', { claims: { repo: 'octo/heph-fork' } }, {}, /wrong repository/],
    ['issuer', { omitClaims: true }, {}, /issued for no OIDC issuer/],
    ['workflow', { claims: { workflow: '.github/workflows/ci.yml' } }, {}, /wrong workflow.*ci\.yml/],
    ['workflow', { claims: { workflow: '.github/workflows/release.yml.evil' } }, {}, /wrong workflow/],
    ['ref', { claims: { ref: 'refs/heads/main' } }, {}, /wrong ref.*refs\/heads\/main.*refs\/tags\/v\*/],
    ['ref', { claims: { ref: 'refs/tags/nightly' } }, {}, /wrong ref/],
    ['runner', { claims: { runner: 'self-hosted' } }, {}, /self-hosted runner.*github_hosted_only/],
    [
      'issuer',
      { claims: { issuer: 'https://token.actions.githubusercontent.com/evil' } },
      {},
      /wrong OIDC issuer/,
    ],
    ['digest', { sha256: 'b'.repeat(64) }, {}, /digest mismatch.*heph-1\.2\.0\.tgz/],
    [
      'predicate-type',
      { predicateType: 'https://in-toto.io/attestation/release/v0.1' },
      {},
      /SLSA provenance v1/,
    ],
    ['untrusted-root', { signer: 'rogue' }, {}, /does not chain to the trusted root/],
    ['timestamp', { timestamp: 'rogue' }, {}, /timestamp/],
    ['timestamp', { timestamp: 'none' }, {}, /expected 1 timestamps, got 0/],
    [
      'timestamp',
      { leafNotBefore: new Date(Date.now() - 2 * 3_600_000), leafNotAfter: new Date(Date.now() - 3_600_000) },
      {},
      /not valid at the signing time/,
    ],
    ['signature', { tamperPayload: true }, {}, /signature does not verify/],
  ];
  it.each(refusals)('refuses: %s (%#)', async (rule, opts, pol, message) => {
    const r = await outcome(opts, { policy: pol });
    expect(r.rule).toBe(rule);
    expect(r.message).toMatch(/^attestation refused \(/);
    expect(r.message).toMatch(message);
  });

  it('refuses a signing time in the future of this clock', async () => {
    const r = await outcome({}, { now: new Date(Date.now() - 3_600_000) });
    expect(r.rule).toBe('timestamp');
    expect(r.message).toMatch(/in the future/);
  });
});
