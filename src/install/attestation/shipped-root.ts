// What heph knows about the trusted root it ships (./trusted-root.json) without loading it: a
// leaf module, so `heph doctor` can say how old the root is without pulling sigstore in.
//
// trusted-root.json is two Sigstore trusted roots merged into one document:
// - public-good Sigstore (Fulcio, Rekor, CT log, TSA): the `trusted_root.json` TUF target of
//   https://tuf-repo-cdn.sigstore.dev as embedded in sigstore/sigstore-js packages/tuf/seeds.json
//   (commit 7db2666ae5d160489527220276c0ad30cb05d83f, 2026-05-26);
// - GitHub's own instance (fulcio.githubapp.com, timestamp.githubapp.com; no transparency log),
//   as `gh attestation trusted-root` printed it: the generations up to 2025-11-13 from
//   letmehateu/automata-slsa-sigstore-verifier samples/trusted_root.jsonl, the 2026-06-12
//   generation (and the end date of the one before) from combinatrix-ai/attestation-verify
//   tests/fixtures/trusted-roots/github.json (captured 2026-07-29). Every chain was checked with
//   `openssl verify` when the file was assembled.
// Refresh: `gh attestation trusted-root > root.jsonl`, then point install.trusted_root at it (a
// JSON document or gh's one-root-per-line output both work) or replace the shipped file.

/** The day the newest part of the shipped root was captured (doctor reports the age from it). */
export const SHIPPED_ROOT_CAPTURED = '2026-07-29';

/**
 * GitHub's instance rotates its intermediates about every six months with a few weeks' overlap;
 * a root older than this may lack the one signing today's attestations.
 */
export const TRUSTED_ROOT_STALE_DAYS = 180;
