// The in-toto statement inside a bundle's DSSE envelope: what was attested about which bytes.
// @sigstore/verify checks the envelope's signature but never looks inside, so the subject digest
// and the predicate type are compared here. Pure.
import { refuse } from './refusal.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** SLSA provenance v1, what actions/attest-build-provenance writes. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
const STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1']);

export interface Subject {
  name: string;
  digest: Record<string, string>;
}

export interface Statement {
  _type: string;
  subject: Subject[];
  predicateType: string;
}

/** The statement, or a `malformed-bundle` refusal when the payload is not one. */
export function decodeStatement(payloadType: string, payload: Uint8Array): Statement {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw refuse(
      'malformed-bundle',
      `the envelope carries ${payloadType || 'no payload type'}, not an in-toto statement`,
    );
  }
  let s: unknown;
  try {
    s = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw refuse('malformed-bundle', 'the envelope payload is not JSON');
  }
  const st = s as Partial<Statement> | null;
  if (
    st === null ||
    typeof st !== 'object' ||
    typeof st._type !== 'string' ||
    !STATEMENT_TYPES.has(st._type) ||
    !Array.isArray(st.subject) ||
    typeof st.predicateType !== 'string'
  ) {
    throw refuse('malformed-bundle', 'the envelope payload is not an in-toto statement');
  }
  return st as Statement;
}

/** True when some subject names `sha256` (hex, any case) as its SHA-256. */
export function mentionsDigest(st: Statement, sha256: string): boolean {
  const want = sha256.toLowerCase();
  return st.subject.some(
    (s) =>
      s !== null &&
      typeof s === 'object' &&
      typeof s.digest?.sha256 === 'string' &&
      s.digest.sha256.toLowerCase() === want,
  );
}

/** Throws unless the statement is SLSA provenance v1 about bytes whose SHA-256 is `sha256`. */
export function checkStatement(st: Statement, sha256: string, assetName: string): void {
  if (!mentionsDigest(st, sha256)) {
    const listed = st.subject
      .map((s) => `${s?.name ?? '?'} (${s?.digest?.sha256 ?? 'no sha256'})`)
      .slice(0, 3)
      .join(', ');
    throw refuse(
      'digest',
      `no subject of the attestation has the SHA-256 of ${assetName} (${sha256}); it names ${listed || 'no subject'}`,
      'the attestation is about other bytes: the asset was replaced after it was attested, or the wrong bundle was uploaded',
    );
  }
  if (st.predicateType !== SLSA_PROVENANCE_V1) {
    throw refuse(
      'predicate-type',
      `the statement's predicate is ${st.predicateType}, not SLSA provenance v1 (${SLSA_PROVENANCE_V1})`,
      'attest the release with actions/attest-build-provenance',
    );
  }
}
