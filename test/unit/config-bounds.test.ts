// Every key has a bound that validation enforces, and the message names the key, the bound and
// what was found (docs/configuration.md "Bounds"); no value that validates breaks a later step.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS } from '../../src/config/duration.js';
import { loadConfig, validateTable } from '../../src/config/load.js';
import { DURATION_KEYS } from '../../src/config/schema.js';
import { HephError } from '../../src/errors.js';
import { checkReport } from '../../src/update/check.js';
import { select } from '../../src/release/select.js';
import { tempDir } from '../helpers/tmp.js';

function load(text: string) {
  const file = join(tempDir('heph-bounds-'), 'config.toml');
  writeFileSync(file, text);
  return { file, run: () => loadConfig(file, {}) };
}

function failure(text: string): { file: string; err: HephError } {
  const { file, run } = load(text);
  try {
    run();
  } catch (e) {
    if (e instanceof HephError) return { file, err: e };
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

const toml = (key: string, value: string) => {
  const [section, name] = key.split('.');
  return `[${section}]\n${name} = ${value}\n`;
};

describe('duration bounds', () => {
  it.each([...DURATION_KEYS])(
    '%s: 365d is accepted, 366d and 99999999999d are refused naming the bound',
    (key) => {
      const [section, name] = key.split('.') as [string, string];
      const ok = load(toml(key, '"365d"')).run().config as unknown as Record<string, Record<string, number>>;
      expect(ok[section]![name]).toBe(MAX_DURATION_MS);
      for (const value of ['366d', '99999999999d', '999999999999999999999999d']) {
        const { file, err } = failure(toml(key, `"${value}"`));
        expect(err.exitCode).toBe(78);
        expect(err.message).toBe(`${file}: ${key}: must be at most 365d, got "${value}"`);
      }
    },
  );
});

describe('integer bounds', () => {
  it.each([
    ['install.keep', '1e300', 'must be at most 100, got 1e+300'],
    ['install.keep', '101', 'must be at most 100, got 101'],
    ['install.keep', '1', 'must be at least 2, got 1'],
    ['restart.max_per_window', '9007199254740991', 'must be at most 1000, got 9007199254740991'],
    ['restart.max_per_window', '0', 'must be at least 1, got 0'],
    ['update.jitter', '7', 'must be at most 0.5, got 7'],
  ])('%s = %s: %s', (key, value, message) => {
    const { file, err } = failure(toml(key, value));
    expect(err.exitCode).toBe(78);
    expect(err.message).toBe(`${file}: ${key}: ${message}`);
    expect(err.message).not.toContain(`at most ${Number.MAX_SAFE_INTEGER}`);
  });

  it("a value past the safe integers (as `config set` reads it) names the key's bound", () => {
    for (const [key, value, bound] of [
      ['install.keep', 1e20, 100],
      ['restart.max_per_window', 2 ** 60, 1000],
    ] as const) {
      const [section, name] = key.split('.') as [string, string];
      let err: unknown;
      try {
        validateTable({ [section]: { [name]: value } }, 'config.toml');
      } catch (e) {
        err = e;
      }
      expect((err as HephError).message).toBe(`config.toml: ${key}: must be at most ${bound}, got ${value}`);
    }
  });
});

describe('wrong types say what was found', () => {
  it.each([
    ['update.jitter', '"x"', 'expected number, got string "x"'],
    ['install.keep', '"3"', 'expected number, got string "3"'],
    ['install.keep', '2.5', 'expected a whole number, got 2.5'],
    ['update.interval', '5', 'expected string, got 5'],
    ['update.allow_major', '"yes"', 'expected boolean, got string "yes"'],
    ['install.public_keys', '"RWQ"', 'expected array, got string "RWQ"'],
    ['forge.repo', '[1, 2]', 'expected string, got a list'],
    ['forge.repo', '{ a = 1 }', 'expected string, got a table'],
  ])('%s = %s: %s', (key, value, message) => {
    const { file, err } = failure(toml(key, value));
    expect(err.message).toBe(`${file}: ${key}: ${message}`);
  });
});

describe('the largest values that validate break no later step', () => {
  it('a check with min_release_age and rollout_window at 365d reports when, without throwing', () => {
    const { config } = load('[update]\nmin_release_age = "365d"\nrollout_window = "365d"\n').run();
    const now = Date.parse('2026-12-01T00:00:00Z');
    const release = {
      tag: 'v2.0.0',
      name: 'v2.0.0',
      notes: '',
      draft: false,
      prerelease: false,
      publishedAt: new Date(now - 1000).toISOString(),
      url: 'https://example.com/r/v2.0.0',
      assets: [],
    };
    const selection = select({
      releases: [release],
      current: '1.0.0',
      now,
      bucket: 0.999,
      policy: {
        channel: 'stable',
        allowMajor: true,
        minReleaseAgeMs: config.update.min_release_age,
        rolloutWindowMs: config.update.rollout_window,
        tagPrefix: 'v',
        asset: '',
        quarantined: [],
        paused: false,
      },
    });
    expect(selection.reason).toBe('too-young');
    const report = checkReport(
      {
        current: '1.0.0',
        selection,
        checkedAt: new Date(now).toISOString(),
        list: { requests: 1, bodyBytes: 1, fromCache: false },
      } as unknown as Parameters<typeof checkReport>[0],
      config,
    );
    expect(Date.parse(report.eligibleAt as string)).toBe(selection.eligibleAt);
    expect(selection.eligibleAt).toBeGreaterThan(now + MAX_DURATION_MS);
  });
});
