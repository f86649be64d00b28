// verifyAttestation over a Sigstore instance made in the test (test/helpers/sigstore-pki.ts,
// shaped like GitHub's: RFC 3161 timestamps, no transparency log): one good bundle, then one
// bundle per rule, each breaking exactly that rule.
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttestationPolicy } from '../../src/install/attestation/policy.js';
import type { HephError } from '../../src/errors.js';
import { ruleOf } from '../../src/install/attestation/refusal.js';
import { shippedTrustedRoot, type TrustedRootJson } from '../../src/install/attestation/trusted-root.js';
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
  over: {
    policy?: Partial<AttestationPolicy>;
    now?: Date;
    trustedRoot?: TrustedRootJson;
    releaseTag?: string;
  } = {},
) {
  const bundle = await pki.makeBundle({ sha256: SHA, ...opts });
  try {
    const r = verifyAttestation({
      bundle,
      assetSha256: SHA,
      assetName: 'heph-1.2.0.tgz',
      policy: { ...policy, ...over.policy },
      trustedRoot: over.trustedRoot ?? pki.trustedRoot,
      releaseTag: over.releaseTag,
      now: over.now ?? new Date(),
    });
    return { rule: null, identity: r.identity, message: '', hint: '' };
  } catch (e) {
    return {
      rule: ruleOf(e),
      identity: null,
      message: (e as Error).message,
      hint: (e as HephError).hint ?? '',
    };
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
    // `.` in a pattern is a dot, not "any character"
    ['ref', { claims: { ref: 'refs/tags/v1x2x0' } }, { ref: 'refs/tags/v1.2.0' }, /wrong ref.*v1x2x0/],
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
    ['untrusted-root', { signer: 'rogue', timestamp: 'rogue' }, {}, /does not chain to the trusted root/],
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

  it('names an embedding app, not heph, in the advice on an unknown certificate authority', async () => {
    const bundle = await pki.makeBundle({ sha256: SHA, signer: 'rogue' });
    let err: HephError | null = null;
    try {
      verifyAttestation({
        bundle,
        assetSha256: SHA,
        appName: 'acme',
        policy,
        trustedRoot: pki.trustedRoot,
        now: new Date(),
      });
    } catch (e) {
      err = e as HephError;
    }
    expect(err?.hint).toMatch(/a Sigstore instance acme trusts.*or upgrade acme$/);
    expect(`${err?.message} ${err?.hint}`).not.toMatch(/heph/);
  });

  describe("ties a tag pattern to the release's own tag", () => {
    it('accepts the build of the release being installed', async () => {
      expect((await outcome({}, { releaseTag: 'v1.2.0' })).rule).toBe(null);
    });

    it('refuses the attested build of another release, naming both refs', async () => {
      const r = await outcome({ claims: { ref: 'refs/tags/v1.0.0' } }, { releaseTag: 'v2.0.0' });
      expect(r.rule).toBe('ref');
      expect(r.message).toMatch(
        /wrong ref.*built from refs\/tags\/v1\.0\.0.*tagged v2\.0\.0.*refs\/tags\/v2\.0\.0/,
      );
    });

    it('leaves a branch pattern alone (a release built from main has no tag to match)', async () => {
      const r = await outcome(
        { claims: { ref: 'refs/heads/main' } },
        { policy: { ref: 'refs/heads/main' }, releaseTag: 'v2.0.0' },
      );
      expect(r.rule).toBe(null);
    });
  });

  it('takes a literal ref pattern exactly', async () => {
    expect((await outcome({}, { policy: { ref: 'refs/tags/v1.2.0' } })).rule).toBe(null);
  });

  it('demands an SCT and a Rekor entry of a public-good certificate, though it has a trusted timestamp', async () => {
    const publicGood = await createTestPki({ organization: 'sigstore.dev' });
    const bundle = await publicGood.makeBundle({ sha256: SHA });
    const run = () =>
      verifyAttestation({
        bundle,
        assetSha256: SHA,
        policy,
        trustedRoot: publicGood.trustedRoot,
        now: new Date(),
      });
    let err: unknown = null;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(ruleOf(err)).toBe('transparency-log');
    expect((err as Error).message).toMatch(/SCT/);
  });

  it('refuses a signing time in the future of this clock', async () => {
    const r = await outcome({}, { now: new Date(Date.now() - 3_600_000) });
    expect(r.rule).toBe('timestamp');
    expect(r.message).toMatch(/in the future/);
  });

  // @sigstore/verify tries every CA of the root valid at the signing time and reports the last
  // one's error; the shipped root holds several at once, so the rule must not depend on their order.
  describe('with a trusted root of several certificate authorities', () => {
    const LISTS = ['tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities'] as const;
    function merge(...roots: TrustedRootJson[]): TrustedRootJson {
      const m: TrustedRootJson = { mediaType: roots[0]!.mediaType };
      for (const l of LISTS) m[l] = roots.flatMap((r) => (r[l] as unknown[] | undefined) ?? []);
      return m;
    }
    let roots: [string, TrustedRootJson][];
    beforeAll(async () => {
      const other = await createTestPki();
      roots = [
        ['test, other test', merge(pki.trustedRoot, other.trustedRoot)],
        ['other test, test', merge(other.trustedRoot, pki.trustedRoot)],
        ['test, shipped', merge(pki.trustedRoot, shippedTrustedRoot())],
        ['shipped, test', merge(shippedTrustedRoot(), pki.trustedRoot)],
      ];
    });

    it('accepts a good bundle whatever the order', async () => {
      for (const [, trustedRoot] of roots) expect((await outcome({}, { trustedRoot })).message).toBe('');
    });

    it('names a certificate expired before the signing time `timestamp` whatever the order', async () => {
      const expired = {
        leafNotBefore: new Date(Date.now() - 2 * 3_600_000),
        leafNotAfter: new Date(Date.now() - 3_600_000),
      };
      for (const [order, trustedRoot] of roots) {
        const r = await outcome(expired, { trustedRoot });
        expect([order, r.rule]).toEqual([order, 'timestamp']);
        expect(r.message).toMatch(/not valid at the signing time/);
        expect(r.hint).not.toMatch(/trusted-root/);
      }
    });

    it('names a certificate from a CA the root does not know `untrusted-root`, with the refresh hint', async () => {
      for (const [order, trustedRoot] of roots) {
        const r = await outcome({ signer: 'rogue' }, { trustedRoot });
        expect([order, r.rule]).toEqual([order, 'untrusted-root']);
        expect(r.hint).toMatch(/gh attestation trusted-root.*install\.trusted_root/);
      }
    });
  });
});
