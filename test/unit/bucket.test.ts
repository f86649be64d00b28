import { HEPH_NAMES } from '../../src/app/identity.js';
import { tempDir } from '../helpers/tmp.js';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, machineBucket, storedMachineId } from '../../src/update/bucket.js';
import { resolvePaths } from '../../src/platform/paths.js';

function tempHome(): { home: string; env: Record<string, string> } {
  const home = tempDir('heph-bucket-');
  return { home, env: { HEPH_HOME: home } };
}

describe('bucketOf', () => {
  it('is in [0, 1) and the same for the same id', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (id) => {
        const b = bucketOf(id);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(1);
        expect(bucketOf(id)).toBe(b);
      }),
    );
  });

  it('ignores the trailing newline of an id file', () => {
    expect(bucketOf('abc\n')).toBe(bucketOf('abc'));
  });

  it('spreads ids evenly: each tenth of the window gets about a tenth of 20,000 machines', () => {
    const deciles = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) deciles[Math.floor(bucketOf(`machine-${i}`) * 10)]++;
    // Expected 2,000 each; a binomial sd is ~42, so 1,800..2,200 is ~5 sd of slack.
    for (const n of deciles) {
      expect(n).toBeGreaterThan(1_800);
      expect(n).toBeLessThan(2_200);
    }
  });
});

describe('machineBucket', () => {
  it('HEPH_MACHINE_ID overrides everything', () => {
    const { env } = tempHome();
    const paths = resolvePaths(env);
    const b = machineBucket(paths, { ...env, HEPH_MACHINE_ID: 'fleet-7' });
    expect(b).toBe(bucketOf('fleet-7'));
  });

  it('reads the system machine id when there is one', () => {
    const { home, env } = tempHome();
    const idFile = join(home, 'etc-machine-id');
    writeFileSync(idFile, '0123456789abcdef0123456789abcdef\n');
    const b = machineBucket(resolvePaths(env), env, HEPH_NAMES, { machineIdFile: idFile });
    expect(b).toBe(bucketOf('0123456789abcdef0123456789abcdef'));
  });

  it('without a system id, makes one once (0600) and keeps it', () => {
    const { home, env } = tempHome();
    const paths = resolvePaths(env);
    const missing = join(home, 'no-such-machine-id');
    const first = machineBucket(paths, env, HEPH_NAMES, { machineIdFile: missing });
    const stored = join(paths.state, 'machine-id');
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    const id = readFileSync(stored, 'utf8').trim();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(first).toBe(bucketOf(id));
    expect(machineBucket(paths, env, HEPH_NAMES, { machineIdFile: missing })).toBe(first);
    expect(storedMachineId(paths)).toBe(id);
  });

  it('an empty system id file counts as missing', () => {
    const { home, env } = tempHome();
    const idFile = join(home, 'empty');
    writeFileSync(idFile, '\n');
    const paths = resolvePaths(env);
    const b = machineBucket(paths, env, HEPH_NAMES, { machineIdFile: idFile });
    expect(b).toBe(bucketOf(storedMachineId(paths)));
  });

  it('two different stored ids give different buckets', () => {
    const a = tempHome();
    const b = tempHome();
    const missing = join(a.home, 'missing');
    const ba = machineBucket(resolvePaths(a.env), a.env, HEPH_NAMES, { machineIdFile: missing });
    const bb = machineBucket(resolvePaths(b.env), b.env, HEPH_NAMES, { machineIdFile: missing });
    expect(ba).not.toBe(bb);
  });
});
