// The identity policy: who may have built a release. Reads the GitHub Actions claims Fulcio
// copies into the signing certificate (OIDs 1.3.6.1.4.1.57264.1.*) and compares each, anchored
// and exactly, with `[install.attestation]`. Pure: no I/O, no sigstore import.
//
// Why by hand: @sigstore/verify matches a policy SAN as an unanchored regular expression
// ("repo/x" also matches "evil/repo/x-fork"), and knows nothing of repositories, refs or runners.
import { refuse } from './refusal.js';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export interface AttestationPolicy {
  /** OWNER/NAME of the repository whose workflow must have built the asset. */
  repo: string;
  /** Workflow file path inside that repository, e.g. `.github/workflows/release.yml`. */
  workflow: string;
  /** Git ref pattern; `*` matches any run of characters, e.g. `refs/tags/v*`. */
  ref: string;
  /** The OIDC issuer Fulcio recorded. */
  issuer: string;
  /** Refuse builds on self-hosted runners (someone else's machine can lie about what it built). */
  githubHostedOnly: boolean;
}

/** The certificate claims heph reads (Fulcio's OID list: github.com/sigstore/fulcio docs/oid-info.md). */
export const FULCIO_OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
} as const;

export interface BuildIdentity {
  san: string | null;
  issuer: string | null;
  buildSignerUri: string | null;
  runnerEnvironment: string | null;
  sourceRepositoryUri: string | null;
  sourceRepositoryRef: string | null;
  buildConfigUri: string | null;
}

/** An extension as @sigstore/verify hands it over: the OID's arcs and the OCTET STRING's content. */
export interface OidValue {
  oid?: { id: number[] } | undefined;
  value: Uint8Array;
}

/**
 * Fulcio's newer extensions (.8 and up) hold a DER string; the older ones (.1–.6) raw bytes.
 * A DER string is tag, length (short or long form), bytes; anything else is read as raw UTF-8.
 */
export function decodeExtensionValue(raw: Uint8Array): string {
  const b = Buffer.from(raw);
  const STRING_TAGS = new Set([0x0c, 0x13, 0x16]); // UTF8String, PrintableString, IA5String
  if (b.length >= 2 && STRING_TAGS.has(b[0]!)) {
    let len = b[1]!;
    let start = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n >= 1 && n <= 3 && b.length >= 2 + n) {
        len = 0;
        for (let i = 0; i < n; i++) len = (len << 8) | b[2 + i]!;
        start = 2 + n;
      } else {
        return b.toString('utf8');
      }
    }
    if (start + len === b.length) return b.subarray(start).toString('utf8');
  }
  return b.toString('utf8');
}

export function readBuildIdentity(san: string | undefined, oids: readonly OidValue[]): BuildIdentity {
  const byOid = new Map<string, string>();
  for (const o of oids) {
    if (o.oid) byOid.set(o.oid.id.join('.'), decodeExtensionValue(o.value));
  }
  const get = (oid: string) => byOid.get(oid) ?? null;
  return {
    san: san ?? null,
    issuer: get(FULCIO_OID.issuer) ?? get(FULCIO_OID.issuerV1),
    buildSignerUri: get(FULCIO_OID.buildSignerUri),
    runnerEnvironment: get(FULCIO_OID.runnerEnvironment),
    sourceRepositoryUri: get(FULCIO_OID.sourceRepositoryUri),
    sourceRepositoryRef: get(FULCIO_OID.sourceRepositoryRef),
    buildConfigUri: get(FULCIO_OID.buildConfigUri),
  };
}

/**
 * The web host whose repositories an issuer speaks for: GitHub.com's Actions issuer for
 * github.com, `token.actions.<tenant>.ghe.com` for `<tenant>.ghe.com` (GitHub Enterprise Cloud
 * with data residency). Any other issuer's own host, which then has to match by name.
 */
export function forgeHostFor(issuer: string): string {
  let host: string;
  try {
    host = new URL(issuer).hostname;
  } catch {
    return issuer;
  }
  if (host === 'token.actions.githubusercontent.com') return 'github.com';
  return host.startsWith('token.actions.') ? host.slice('token.actions.'.length) : host;
}

/** `*` matches any run of characters (slashes included); everything else literally; anchored. */
export function refMatches(pattern: string, ref: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`).test(ref);
}

/** `https://HOST/OWNER/NAME/PATH@REF` → its parts, or null when it has another shape. */
export function splitWorkflowUri(
  uri: string,
): { host: string; repo: string; path: string; ref: string } | null {
  const m = /^https:\/\/([^/]+)\/([^/]+\/[^/]+)\/([^@]+)@(.+)$/.exec(uri);
  return m ? { host: m[1]!, repo: m[2]!, path: m[3]!, ref: m[4]! } : null;
}

/**
 * Throws the refusal for the first rule the identity breaks (issuer, repo, workflow, ref, runner).
 * With `releaseTag` (the tag of the release being installed) and a tag pattern as `ref`, the build
 * must also come from that very tag: an attested v1.0.0 tarball uploaded again as v2.0.0 is refused.
 */
export function checkIdentity(id: BuildIdentity, policy: AttestationPolicy, releaseTag?: string): void {
  if (id.issuer !== policy.issuer) {
    throw refuse(
      'issuer',
      `the certificate was issued for ${id.issuer ?? 'no OIDC issuer'}, install.attestation.issuer is ${policy.issuer}`,
    );
  }
  const host = forgeHostFor(policy.issuer);
  const wantRepo = `https://${host}/${policy.repo}`;
  if (id.sourceRepositoryUri === null || id.sourceRepositoryUri.toLowerCase() !== wantRepo.toLowerCase()) {
    throw refuse(
      'repo',
      `built from ${id.sourceRepositoryUri ?? 'an unnamed repository (no source repository claim)'}, expected ${wantRepo}`,
      'set install.attestation.repo (default: forge.repo) to the repository that runs the release workflow',
    );
  }
  // The SAN is the workflow that signed (a reusable workflow when one was called); Fulcio copies
  // it into the build signer claim, and a certificate where the two differ is not Fulcio's.
  if (id.san === null || (id.buildSignerUri !== null && id.san !== id.buildSignerUri)) {
    throw refuse(
      'workflow',
      `the certificate's identity ${id.san ?? '(none)'} does not match its build signer claim`,
    );
  }
  // The top-level workflow run in the repository: build config, or the SAN on old certificates.
  const config = splitWorkflowUri(id.buildConfigUri ?? id.san);
  if (
    config === null ||
    config.host !== host ||
    config.repo.toLowerCase() !== policy.repo.toLowerCase() ||
    config.path !== policy.workflow
  ) {
    throw refuse(
      'workflow',
      `built by ${id.buildConfigUri ?? id.san}, expected the workflow ${policy.workflow} of ${policy.repo}`,
      'set install.attestation.workflow to the workflow file that attests the release',
    );
  }
  const ref = id.sourceRepositoryRef ?? config.ref;
  if (!refMatches(policy.ref, ref) || config.ref !== ref) {
    throw refuse(
      'ref',
      `built from ${ref}, which does not match install.attestation.ref "${policy.ref}"`,
      'release from a ref the pattern allows (a tag), or widen install.attestation.ref',
    );
  }
  if (releaseTag !== undefined && policy.ref.startsWith('refs/tags/') && ref !== `refs/tags/${releaseTag}`) {
    throw refuse(
      'ref',
      `built from ${ref}, but the release is tagged ${releaseTag} (expected refs/tags/${releaseTag})`,
      "the asset was built for another release and uploaded with this one; attest each release's own build",
    );
  }
  if (policy.githubHostedOnly && id.runnerEnvironment !== 'github-hosted') {
    throw refuse(
      'runner',
      `built on a ${id.runnerEnvironment ?? 'runner of unknown kind'}, and install.attestation.github_hosted_only is true`,
      'build releases on GitHub-hosted runners, or set install.attestation.github_hosted_only = false',
    );
  }
}
