// `heph doctor` as a user runs it (the built CLI): one line per check with its fix, a summary,
// exit 1 when a check fails, and `--json` as one document. The checks themselves are tested in
// test/unit/doctor.test.ts and test/integration/doctor.test.ts; this is the printing and exit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';

let s: Scratch;
beforeAll(() => {
  s = scratch('heph-doctor-cli-');
});
afterAll(() => s.cleanup());

describe('heph doctor (CLI)', () => {
  it('prints each check with its fix and exits 1 when one fails', async () => {
    s.writeConfig(
      '[update]\nmode = "notify"\n[forge]\nkind = "github"\nurl = "http://127.0.0.1:9"\nrepo = "acme/heph"\n',
    );
    const r = await runHeph(['doctor'], s.env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^ok {4}config +.*config\.toml is valid \(update\.mode = notify\)$/m);
    expect(r.stdout).toMatch(/^FAIL {2}store +the store has no current version$/m);
    expect(r.stdout).toMatch(/^ +fix: run `heph daemon install`$/m);
    expect(r.stdout).toMatch(/^FAIL {2}forge +forge not usable/m); // nothing listens on port 9
    expect(r.stdout).toMatch(/^\d+ failed, \d+ warnings?, \d+ ok$/m);
  });

  it('shows the verify mode and the age of the trusted root', async () => {
    s.writeConfig(
      '[forge]\nrepo = "acme/heph"\n[install]\nverify = "attestation"\n[install.attestation]\nworkflow = ".github/workflows/release.yml"\n',
    );
    const r = await runHeph(['doctor'], s.env);
    expect(r.stdout).toMatch(
      /^(ok|WARN) +verify +install\.verify = attestation: each release was built by acme\/heph\/\.github\/workflows\/release\.yml@refs\/tags\/\*; the shipped trusted root is \d+ days old$/m,
    );
  });

  it('--json is one document with every check', async () => {
    s.writeConfig('[update]\nmode = "sometimes"\n');
    const r = await runHeph(['doctor', '--json'], s.env);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { id: string; status: string; fix: string | null }[];
    };
    expect(doc.ok).toBe(false);
    const config = doc.checks.find((c) => c.id === 'config')!;
    expect(config.status).toBe('fail');
    expect(config.fix).toContain('heph config validate');
    for (const c of doc.checks) expect(['ok', 'warn', 'fail']).toContain(c.status);
  });
});
