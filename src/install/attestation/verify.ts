// verifyAttestation: one Sigstore bundle against the asset's SHA-256, a trusted root and the
// identity policy, offline. @sigstore/verify does the cryptography (certificate chain at the
// signing time, RFC 3161 timestamps, Rekor inclusion, SCTs, the DSSE signature); heph adds what
// it leaves to the caller: which transparency evidence to demand, the in-toto statement (subject
// digest, predicate type) and the anchored identity (policy.ts). Every "no" is a refusal naming
// its rule (refusal.ts).
import { X509Certificate as NodeX509 } from 'node:crypto';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  PolicyError,
  type SignedEntity,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from '@sigstore/verify';
import { type AttestationPolicy, type BuildIdentity, checkIdentity, readBuildIdentity } from './policy.js';
import type { HephError } from '../../errors.js';
import { refuse } from './refusal.js';
import { checkStatement, decodeStatement, type Statement } from './statement.js';
import type { TrustedRootJson } from './trusted-root.js';

/** A signing time this far past `now` means a wrong clock somewhere; the TSA's or ours. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export type SigstoreInstance = 'public-good' | 'github';

export interface VerifyAttestationInput {
  /** The bundle as parsed JSON (one line of a .jsonl file, or a .sigstore.json document). */
  bundle: unknown;
  /** Hex SHA-256 of the asset the attestation must be about. */
  assetSha256: string;
  /** The asset's name, for messages. */
  assetName?: string;
  /** The app's name, for hints (an embedding app's own; default heph). */
  appName?: string;
  /**
   * The tag of the release being installed (`v1.2.0`): with a tag pattern as the policy's ref,
   * the attested ref must be exactly `refs/tags/<tag>` (policy.ts checkIdentity).
   */
  releaseTag?: string;
  policy: AttestationPolicy;
  trustedRoot: TrustedRootJson;
  now: Date;
}

export interface VerifiedAttestation {
  identity: BuildIdentity;
  instance: SigstoreInstance;
  /** The earliest verified signing time (RFC 3161 or Rekor's integrated time). */
  signedAt: Date;
  statement: Statement;
}

const trustCache = new WeakMap<TrustedRootJson, TrustMaterial>();

function trustMaterial(root: TrustedRootJson): TrustMaterial {
  let tm = trustCache.get(root);
  if (tm === undefined) {
    try {
      tm = toTrustMaterial(TrustedRoot.fromJSON(root));
    } catch (e) {
      throw refuse(
        'untrusted-root',
        `the trusted root cannot be used: ${(e as Error).message}`,
        undefined,
        e,
      );
    }
    trustCache.set(root, tm);
  }
  return tm;
}

function leafCertificate(bundle: Bundle): Buffer {
  const vm = bundle.verificationMaterial.content;
  if (vm.$case === 'certificate') return Buffer.from(vm.certificate.rawBytes);
  if (vm.$case === 'x509CertificateChain' && vm.x509CertificateChain.certificates[0]) {
    return Buffer.from(vm.x509CertificateChain.certificates[0].rawBytes);
  }
  throw refuse('untrusted-root', 'the bundle is signed with a bare key, not a Fulcio certificate');
}

/**
 * Which evidence the signature must carry, the way `gh attestation verify` decides: certificates
 * from public-good Fulcio (O=sigstore.dev) need a Rekor entry and an SCT; GitHub's instance
 * (private repositories) logs nothing and proves the time with an RFC 3161 timestamp instead.
 */
function instanceOf(leafDer: Buffer): SigstoreInstance {
  let issuer: string;
  try {
    issuer = new NodeX509(leafDer).issuer;
  } catch (e) {
    throw refuse('malformed-bundle', 'the signing certificate cannot be parsed', undefined, e);
  }
  return /^O=sigstore\.dev$/m.test(issuer) ? 'public-good' : 'github';
}

function thresholds(instance: SigstoreInstance) {
  return instance === 'public-good'
    ? { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }
    : { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 };
}

/**
 * Whether a certificate authority of the trusted root issued `leaf` (its issuer name and its
 * signature match a certificate of the CA's chain), whatever the dates. @sigstore/verify tries
 * each CA valid at the signing time and reports only the last one's error, so its message depends
 * on the order of the root's CAs; this answer does not.
 */
export function issuedByTrustedCa(leafDer: Buffer, root: TrustedRootJson): boolean {
  let leaf: NodeX509;
  try {
    leaf = new NodeX509(leafDer);
  } catch {
    return false;
  }
  const cas = Array.isArray(root.certificateAuthorities) ? root.certificateAuthorities : [];
  for (const ca of cas as { certChain?: { certificates?: { rawBytes?: string }[] } }[]) {
    for (const c of ca?.certChain?.certificates ?? []) {
      try {
        const cert = new NodeX509(Buffer.from(c.rawBytes ?? '', 'base64'));
        if (leaf.checkIssued(cert) && leaf.verify(cert.publicKey)) return true;
      } catch {
        // not a certificate: the next one
      }
    }
  }
  return false;
}

interface FailureContext {
  appName: string;
  leafDer: Buffer;
  trustedRoot: TrustedRootJson;
  entity: SignedEntity | undefined;
}

function unknownCa(what: string, ctx: FailureContext, e: unknown): HephError {
  return refuse(
    'untrusted-root',
    `the signing certificate does not chain to the trusted root (${what})`,
    `the attestation was not made by a Sigstore instance ${ctx.appName} trusts; if GitHub rotated its certificates, refresh the root (\`gh attestation trusted-root > FILE\`, then install.trusted_root = "FILE") or upgrade ${ctx.appName}`,
    e,
  );
}

/** @sigstore/verify's error, as the rule it broke. */
function translate(e: unknown, ctx: FailureContext): never {
  if (e instanceof VerificationError) {
    const cause = e.cause instanceof Error ? e.cause.message : '';
    const what = cause ? `${e.message}: ${cause}` : e.message;
    switch (e.code) {
      case 'TIMESTAMP_ERROR':
        // A certificate from a CA generation the root does not know comes with a timestamp from
        // an authority it does not know either: the root is what is missing, not the time.
        if (!issuedByTrustedCa(ctx.leafDer, ctx.trustedRoot)) throw unknownCa(what, ctx, e);
        throw refuse(
          'timestamp',
          `${what} (no timestamp authority in the trusted root vouches for the signing time)`,
          undefined,
          e,
        );
      case 'CERTIFICATE_ERROR': {
        if (/\bSCTs?\b/.test(e.message)) {
          throw refuse(
            'transparency-log',
            `the signing certificate carries no verified certificate transparency entry (${what})`,
            undefined,
            e,
          );
        }
        if (!issuedByTrustedCa(ctx.leafDer, ctx.trustedRoot)) throw unknownCa(what, ctx, e);
        const leaf = new NodeX509(ctx.leafDer);
        const at = ctx.entity ? signingTimes(ctx.entity).map((t) => t.toISOString()) : [];
        throw refuse(
          'timestamp',
          `the signing certificate (valid ${new Date(leaf.validFrom).toISOString()} to ${new Date(leaf.validTo).toISOString()}), or the authority that issued it, was not valid at the signing time${at.length ? ` ${at.join(', ')}` : ''}`,
          undefined,
          e,
        );
      }
      case 'SIGNATURE_ERROR':
        throw refuse('signature', `the envelope's signature does not verify (${what})`, undefined, e);
      case 'PUBLIC_KEY_ERROR':
        throw refuse('untrusted-root', what, undefined, e);
      default:
        throw refuse('transparency-log', what, undefined, e);
    }
  }
  if (e instanceof PolicyError) throw refuse('workflow', e.message, undefined, e);
  throw refuse(
    'malformed-bundle',
    `the bundle cannot be verified: ${(e as Error)?.message ?? String(e)}`,
    undefined,
    e,
  );
}

function signingTimes(entity: SignedEntity): Date[] {
  return entity.timestamps.map((t) =>
    t.$case === 'timestamp-authority'
      ? t.timestamp.signingTime
      : new Date(Number(t.tlogEntry.integratedTime) * 1000),
  );
}

export function verifyAttestation(input: VerifyAttestationInput): VerifiedAttestation {
  const name = input.assetName ?? 'the asset';
  if (input.bundle === undefined || input.bundle === null) {
    throw refuse('missing-bundle', `no Sigstore bundle for ${name}`);
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(input.bundle);
  } catch (e) {
    throw refuse('malformed-bundle', `not a Sigstore bundle: ${(e as Error).message}`, undefined, e);
  }
  if (bundle.content.$case !== 'dsseEnvelope') {
    throw refuse('malformed-bundle', 'the bundle signs a message, not an attestation (no DSSE envelope)');
  }
  const leafDer = leafCertificate(bundle);
  const instance = instanceOf(leafDer);
  const tm = trustMaterial(input.trustedRoot);

  let entity: SignedEntity | undefined;
  let identity: BuildIdentity;
  try {
    entity = toSignedEntity(bundle);
    const signer = new Verifier(tm, thresholds(instance)).verify(entity);
    identity = readBuildIdentity(signer.identity?.subjectAlternativeName, signer.identity?.oids ?? []);
  } catch (e) {
    translate(e, { appName: input.appName ?? 'heph', leafDer, trustedRoot: input.trustedRoot, entity });
  }
  const times = signingTimes(entity);
  const latest = Math.max(...times.map((t) => t.getTime()));
  if (latest > input.now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw refuse(
      'timestamp',
      `signed at ${new Date(latest).toISOString()}, which is in the future (now ${input.now.toISOString()})`,
      "check this machine's clock",
    );
  }

  const env = bundle.content.dsseEnvelope;
  const statement = decodeStatement(env.payloadType, env.payload);
  checkStatement(statement, input.assetSha256, name);
  checkIdentity(identity, input.policy, input.releaseTag);
  return {
    identity,
    instance,
    signedAt: new Date(Math.min(...times.map((t) => t.getTime()))),
    statement,
  };
}
