// The doctor row for install.verify: what the mode proves, and for "attestation" the age of the
// trusted root (shipped or install.trusted_root), as a table of facts → results.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { checkVerify, type DoctorFacts, type VerifyFact } from '../../src/service/doctor.js';
import { verifyFact } from '../../src/service/doctor-facts.js';
import { tempDir } from '../helpers/tmp.js';

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

  it("advises an embedding app's users to upgrade that app, not heph", () => {
    const config = configSchema.parse({
      forge: { repo: 'octo/acme' },
      install: { verify: 'attestation', attestation: { workflow: '.github/workflows/release.yml' } },
    });
    const old = Date.now() + 400 * 86_400_000; // the shipped root, 400 days from now
    const r = checkVerify(facts(verifyFact(config, {}, old, 'acme'))) as { status: string; fix: string };
    expect(r.status).toBe('warn');
    expect(r.fix).toMatch(/^upgrade acme, or set install\.trusted_root/);
    expect(r.fix).not.toMatch(/heph/);
  });

  it('says nothing when the config does not load (the config row says why)', () => {
    expect(checkVerify(facts(null))).toBe(null);
  });
});

// verifyFact reads install.trusted_root with the installer's own reader (trusted-root-file.ts):
// a file every install would refuse is a doctor failure naming it, not an "ok, N days old".
describe('verifyFact on a real install.trusted_root', () => {
  const dir = tempDir('heph-doctor-root-');
  const fact = (trusted_root: string) =>
    verifyFact(
      configSchema.parse({
        forge: { repo: 'octo/heph' },
        install: {
          verify: 'attestation',
          trusted_root,
          attestation: { workflow: '.github/workflows/release.yml' },
        },
      }),
      { HOME: dir },
      Date.now(),
    );

  it.each([
    ['not JSON', 'not json at all\n', /is neither JSON nor JSON lines/],
    ['another kind of JSON', '{"mediaType":"text/plain"}', /is not a Sigstore trusted root/],
    [
      'a root without a certificate authority',
      '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","certificateAuthorities":[]}',
      /names no certificate authority/,
    ],
  ])('fails %s, naming the file', (_what, text, why) => {
    const file = join(dir, `${_what.replaceAll(' ', '-')}.json`);
    writeFileSync(file, text);
    const r = checkVerify(facts(fact(file)));
    expect(r).toMatchObject({ id: 'verify', status: 'fail' });
    expect((r as { summary: string }).summary).toContain(file);
    expect((r as { summary: string }).summary).toMatch(why);
  });

  it('passes a trusted root as `gh attestation trusted-root` prints it (JSON lines), under ~/', () => {
    const rootDoc = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      certificateAuthorities: [{ uri: 'fulcio.test' }],
    };
    writeFileSync(join(dir, 'root.jsonl'), `${JSON.stringify(rootDoc)}\n${JSON.stringify(rootDoc)}\n`);
    const r = checkVerify(facts(fact('~/root.jsonl')));
    expect(r).toMatchObject({ id: 'verify', status: 'ok' });
    expect((r as { summary: string }).summary).toMatch(/root\.jsonl is 0 days old/);
  });

  it('fails a file that is not there', () => {
    const r = checkVerify(facts(fact(join(dir, 'gone.json'))));
    expect((r as { summary: string }).summary).toMatch(/gone\.json cannot be read \(ENOENT\)/);
  });
});
