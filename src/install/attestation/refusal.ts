// The one way the attestation check says no: an E_VERIFY HephError whose message starts with the
// rule that failed, so `update.failed`'s `error` field (the message's first line) names it.
import { HephError } from '../../errors.js';

/** Stable words for the rules (docs/security.md lists them); also `details.rule` on the error. */
export type AttestationRule =
  | 'missing-bundle'
  | 'malformed-bundle'
  | 'digest'
  | 'predicate-type'
  | 'untrusted-root'
  | 'timestamp'
  | 'signature'
  | 'transparency-log'
  | 'issuer'
  | 'repo'
  | 'workflow'
  | 'ref'
  | 'runner';

const TITLE: Record<AttestationRule, string> = {
  'missing-bundle': 'no attestation bundle',
  'malformed-bundle': 'malformed attestation bundle',
  digest: 'digest mismatch',
  'predicate-type': 'wrong predicate type',
  'untrusted-root': 'untrusted certificate chain',
  timestamp: 'expired or unknown timestamp',
  signature: 'bad signature',
  'transparency-log': 'transparency log entry does not verify',
  issuer: 'wrong OIDC issuer',
  repo: 'wrong repository',
  workflow: 'wrong workflow',
  ref: 'wrong ref',
  runner: 'self-hosted runner',
};

export function refuse(rule: AttestationRule, detail: string, hint?: string, cause?: unknown): HephError {
  return new HephError('E_VERIFY', `attestation refused (${TITLE[rule]}): ${detail}`, {
    hint: hint ?? 'nothing was installed; see docs/security.md ("Provenance") for what each rule checks',
    cause,
    details: { rule },
  });
}

export function ruleOf(e: unknown): AttestationRule | null {
  return e instanceof HephError && typeof e.details.rule === 'string'
    ? (e.details.rule as AttestationRule)
    : null;
}
