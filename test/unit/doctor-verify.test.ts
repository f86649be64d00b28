// The doctor row for install.verify: what the mode proves, and for "attestation" the age of the
// trusted root (shipped or install.trusted_root), as a table of facts → results.
import { describe, expect, it } from 'vitest';
import { checkVerify, type DoctorFacts, type VerifyFact } from '../../src/service/doctor.js';

const facts = (verify: VerifyFact | null) => ({ verify }) as unknown as DoctorFacts;
const WF = 'octo/heph/.github/workflows/release.yml@refs/tags/*';

describe('checkVerify', () => {
  it.each<[string, VerifyFact, string, RegExp]>([
    ['none', { mode: 'none', workflow: null, trustedRoot: null }, 'warn', /NOT checked/],
    ['sha256', { mode: 'sha256', workflow: null, trustedRoot: null }, 'ok', /match SHA256SUMS/],
    ['minisign', { mode: 'minisign', workflow: null, trustedRoot: null }, 'ok', /signed by a configured key/],
    [
      'a fresh shipped root',
      {
        mode: 'attestation',
        workflow: WF,
        trustedRoot: { source: 'shipped', path: null, ageDays: 40, staleAfterDays: 180 },
      },
      'ok',
      /built by octo\/heph\/\.github\/workflows\/release\.yml@refs\/tags\/\*; the shipped trusted root is 40 days old/,
    ],
    [
      'an old shipped root',
      {
        mode: 'attestation',
        workflow: WF,
        trustedRoot: { source: 'shipped', path: null, ageDays: 200, staleAfterDays: 180 },
      },
      'warn',
      /200 days old/,
    ],
    [
      'an old configured root',
      {
        mode: 'attestation',
        workflow: WF,
        trustedRoot: { source: 'file', path: '/etc/heph/root.jsonl', ageDays: 365, staleAfterDays: 180 },
      },
      'warn',
      /install\.trusted_root \/etc\/heph\/root\.jsonl is 365 days old/,
    ],
    [
      'a configured root that is gone',
      {
        mode: 'attestation',
        workflow: WF,
        trustedRoot: { source: 'file', path: '/etc/heph/root.jsonl', error: 'cannot be read (ENOENT)' },
      },
      'fail',
      /root\.jsonl cannot be read \(ENOENT\)/,
    ],
  ])('%s', (_what, fact, status, summary) => {
    const r = checkVerify(facts(fact));
    expect(r).toMatchObject({ id: 'verify', status });
    expect((r as { summary: string }).summary).toMatch(summary);
    if (status !== 'ok') expect((r as { fix?: string }).fix).toBeTruthy();
  });

  it('says nothing when the config does not load (the config row says why)', () => {
    expect(checkVerify(facts(null))).toBe(null);
  });
});
