// install.verify = "attestation" for one release: find the asset's Sigstore bundle among the
// release's assets, verify it offline (verify.ts) and log who built it. The bundle method loads
// this module lazily (a dynamic import), so sigstore is read only by installs that use it.
import { homedir } from 'node:os';
import type { Config } from '../../config/schema.js';
import type { ForgeClient, ReleaseAsset } from '../../forge/types.js';
import type { Deps } from '../../platform/deps.js';
import type { VersionedRelease } from '../../release/types.js';
import type { AttestationPolicy } from './policy.js';
import { refuse } from './refusal.js';
import { decodeStatement, mentionsDigest } from './statement.js';
import { loadTrustedRoot } from './trusted-root.js';
import { type VerifiedAttestation, verifyAttestation } from './verify.js';

/** A bundle is ~10 KB; attestations.jsonl holds one per asset. Larger is not an attestation file. */
export const MAX_ATTESTATION_BYTES = 8 * 1024 * 1024;
/** The release-wide file that `gh attestation download` writes, one bundle per line. */
export const RELEASE_ATTESTATIONS = 'attestations.jsonl';

/** Where a release may carry the bundle for `asset`, most specific first (docs/security.md). */
export function attestationAssetNames(asset: string): string[] {
  return [`${asset}.sigstore.json`, `${asset}.intoto.jsonl`, RELEASE_ATTESTATIONS];
}

export function policyFromConfig(config: Config): AttestationPolicy {
  const a = config.install.attestation;
  return {
    repo: a.repo || config.forge.repo,
    workflow: a.workflow,
    ref: a.ref,
    issuer: a.issuer,
    githubHostedOnly: a.github_hosted_only,
  };
}

/**
 * Every bundle in a file: one JSON document, or JSON lines; a line may also be the GitHub
 * attestations API's `{"bundle": …}` wrapper. Unparseable lines are kept as `null` so that the
 * refusal says "malformed" rather than "missing".
 */
export function parseBundles(text: string): unknown[] {
  const unwrap = (v: unknown) =>
    v !== null && typeof v === 'object' && 'bundle' in v && !('mediaType' in v)
      ? (v as { bundle: unknown }).bundle
      : v;
  try {
    return [unwrap(JSON.parse(text))];
  } catch {
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return unwrap(JSON.parse(l));
        } catch {
          return {};
        }
      });
  }
}

/** The bundles that claim to be about `sha256` (unverified: a hint of which to check first). */
function claimsDigest(bundle: unknown, sha256: string): boolean {
  try {
    const env = (bundle as { dsseEnvelope?: { payload?: string; payloadType?: string } }).dsseEnvelope;
    if (!env?.payload) return false;
    return mentionsDigest(decodeStatement(env.payloadType ?? '', Buffer.from(env.payload, 'base64')), sha256);
  } catch {
    return false;
  }
}

export interface ReleaseAttestationInput {
  config: Config;
  deps: Deps;
  client: ForgeClient;
  release: VersionedRelease;
  /** The asset to install and its SHA-256 (from SHA256SUMS; the download is checked against it). */
  assetName: string;
  sha256: string;
}

/**
 * Resolves with who built the asset, or throws an E_VERIFY refusal naming the rule. Of several
 * bundles, the first that verifies wins; when none does, the refusal is that of the first one
 * that claims this digest (else of the first bundle: a digest mismatch at least).
 */
export async function verifyReleaseAttestation(input: ReleaseAttestationInput): Promise<VerifiedAttestation> {
  const { config, deps, client, release, assetName, sha256 } = input;
  const names = attestationAssetNames(assetName);
  const found: ReleaseAsset[] = names.flatMap((n) => release.assets.filter((a) => a.name === n));
  if (found.length === 0) {
    throw refuse(
      'missing-bundle',
      `release ${release.tag} has no attestation for ${assetName} (looked for ${names.join(', ')})`,
      'attest the release (actions/attest-build-provenance) and upload the bundle with it; see docs/security.md',
    );
  }
  const bundles: unknown[] = [];
  for (const a of found) bundles.push(...parseBundles(await client.fetchAssetText(a, MAX_ATTESTATION_BYTES)));
  const ordered = [
    ...bundles.filter((b) => claimsDigest(b, sha256)),
    ...bundles.filter((b) => !claimsDigest(b, sha256)),
  ];
  const trustedRoot = loadTrustedRoot(config.install.trusted_root, deps.env.HOME ?? homedir());
  const policy = policyFromConfig(config);
  let first: unknown;
  for (const bundle of ordered.length ? ordered : [undefined]) {
    try {
      const r = verifyAttestation({
        bundle,
        assetSha256: sha256,
        assetName,
        appName: deps.app.name,
        releaseTag: release.tag,
        policy,
        trustedRoot,
        now: new Date(deps.clock.now()),
      });
      deps.logger.info(
        {
          version: release.version,
          asset: assetName,
          instance: r.instance,
          workflow: r.identity.buildConfigUri ?? r.identity.san,
          runner: r.identity.runnerEnvironment,
          signedAt: r.signedAt.toISOString(),
        },
        'attestation verified',
      );
      return r;
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}
