// verifyAttestation against real bundles published by the GitHub CLI's tests (test/fixtures/
// attestation/README.md) and the trusted root heph ships: the cryptography of both Sigstore
// instances GitHub uses, and the rules heph adds on top.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AttestationPolicy } from '../../src/install/attestation/policy.js';
import { ruleOf } from '../../src/install/attestation/refusal.js';
import { parseTrustedRoot, shippedTrustedRoot } from '../../src/install/attestation/trusted-root.js';
import { verifyAttestation } from '../../src/install/attestation/verify.js';

const dir = new URL('../fixtures/attestation/', import.meta.url);
function bundle(name: string): unknown {
  const text = readFileSync(new URL(name, dir), 'utf8');
  return JSON.parse(name.endsWith('.jsonl') ? text.split('\n')[0]! : text);
}

const DEMO = {
  bundle: 'github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl',
  sha256: 'ae57936def59bc4c75edd3a837d89bcefc6d3a5e31d55a6fa7a71624f92c3c3b',
  policy: {
    repo: 'actions/attest-demo',
    workflow: '.github/workflows/build-python.yml',
    ref: 'refs/heads/main',
    issuer: 'https://token.actions.githubusercontent.com',
    githubHostedOnly: true,
  } satisfies AttestationPolicy,
};
const REUSABLE = {
  bundle: 'reusable-workflow-attestation.sigstore.json',
  sha256: '49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25',
  policy: { ...DEMO.policy, repo: 'malancas/attest-demo', workflow: '.github/workflows/shared.yml' },
};
const now = new Date('2026-12-01T00:00:00Z');

function verify(b: string, sha256: string, policy: AttestationPolicy, trustedRoot = shippedTrustedRoot()) {
  return verifyAttestation({
    bundle: bundle(b),
    assetSha256: sha256,
    assetName: 'x',
    policy,
    trustedRoot,
    now,
  });
}

function ruleFor(fn: () => unknown): string | null {
  try {
    fn();
  } catch (e) {
    return ruleOf(e);
  }
  return null;
}

describe('real bundles', () => {
  it("accepts GitHub's own instance (RFC 3161 timestamp, no transparency log)", () => {
    const r = verify(DEMO.bundle, DEMO.sha256, DEMO.policy);
    expect(r.instance).toBe('github');
    expect(r.identity.sourceRepositoryUri).toBe('https://github.com/actions/attest-demo');
    expect(r.identity.runnerEnvironment).toBe('github-hosted');
    expect(r.statement.predicateType).toBe('https://slsa.dev/provenance/v1');
  });

  it('accepts public-good Sigstore (Rekor entry, SCT) and checks the calling workflow of a reusable one', () => {
    const r = verify(REUSABLE.bundle, REUSABLE.sha256, REUSABLE.policy);
    expect(r.instance).toBe('public-good');
    expect(r.identity.san).toMatch(/^https:\/\/github\.com\/github\/artifact-attestations-workflows\//);
    expect(r.identity.buildConfigUri).toBe(
      'https://github.com/malancas/attest-demo/.github/workflows/shared.yml@refs/heads/main',
    );
  });

  it.each([
    ['repo', { repo: 'actions/attest-demo-fork' }],
    ['repo', { repo: 'evil/actions/attest-demo' }],
    ['workflow', { workflow: '.github/workflows/build.yml' }],
    ['workflow', { workflow: 'build-python.yml' }],
    ['ref', { ref: 'refs/tags/v*' }],
    ['issuer', { issuer: 'https://token.actions.githubusercontent.com/other' }],
  ])('refuses the GitHub-instance bundle for a wrong %s', (rule, change) => {
    expect(ruleFor(() => verify(DEMO.bundle, DEMO.sha256, { ...DEMO.policy, ...change }))).toBe(rule);
  });

  it('refuses the signing workflow of a reusable one in place of the calling workflow', () => {
    const policy = { ...REUSABLE.policy, workflow: '.github/workflows/attest.yml' };
    expect(ruleFor(() => verify(REUSABLE.bundle, REUSABLE.sha256, policy))).toBe('workflow');
  });

  it('refuses another asset (digest mismatch) after the signature verified', () => {
    expect(ruleFor(() => verify(DEMO.bundle, REUSABLE.sha256, DEMO.policy))).toBe('digest');
    // npm provenance names a sha512 only
    expect(ruleFor(() => verify('sigstore-js-2.1.0-bundle.json', DEMO.sha256, DEMO.policy))).toBe('digest');
  });

  it('refuses a custom OIDC issuer', () => {
    const sha = 'afa27b44d43b02a9fea41d13cedc2e4016cfcf87c5dbf990e593669aa8ce286d';
    expect(ruleFor(() => verify('custom-issuer.sigstore.json', sha, DEMO.policy))).toBe('issuer');
  });

  it('refuses an altered signature', () => {
    expect(ruleFor(() => verify('sigstoreBundle-invalid-signature.json', DEMO.sha256, DEMO.policy))).toBe(
      'transparency-log',
    );
  });

  it("refuses GitHub's instance when the trusted root holds only public-good Sigstore", () => {
    const full = shippedTrustedRoot() as Record<string, unknown>;
    const publicGood = parseTrustedRoot(
      JSON.stringify({
        ...full,
        certificateAuthorities: (full.certificateAuthorities as { uri: string }[]).filter((c) =>
          c.uri.includes('sigstore.dev'),
        ),
        timestampAuthorities: (full.timestampAuthorities as { uri: string }[]).filter((c) =>
          c.uri.includes('sigstore.dev'),
        ),
      }),
      'public-good.json',
    );
    // GitHub's CA and timestamp authority are both unknown: the root is what is missing
    expect(ruleFor(() => verify(DEMO.bundle, DEMO.sha256, DEMO.policy, publicGood))).toBe('untrusted-root');
    expect(ruleFor(() => verify(REUSABLE.bundle, REUSABLE.sha256, REUSABLE.policy, publicGood))).toBe(null);
  });

  it('refuses a missing or malformed bundle', () => {
    const v = (b: unknown) => () =>
      verifyAttestation({
        bundle: b,
        assetSha256: DEMO.sha256,
        policy: DEMO.policy,
        trustedRoot: shippedTrustedRoot(),
        now,
      });
    expect(ruleFor(v(undefined))).toBe('missing-bundle');
    expect(ruleFor(v({ mediaType: 'nope' }))).toBe('malformed-bundle');
  });
});
