// Fuzzing the config loader (src/config/load.ts) with fast-check: random TOML text, random tables
// of known and unknown keys with values of every type, random HEPH_* environment, real files.
// Whatever goes in, the only error that comes out is HephError E_CONFIG naming the file or key.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseTomlText, validateTable } from '../../src/config/load.js';
import { KNOWN_KEYS } from '../../src/config/schema.js';
import { HephError } from '../../src/errors.js';

/** Cases per property: enough to reach odd corners in a second or two; the soak run goes deep. */
const RUNS = process.env.HEPH_SOAK === '1' ? 20_000 : 400;
const SECTIONS = ['update', 'forge', 'install', 'restart', 'notify'] as const;
const LEAVES = KNOWN_KEYS.map((k) => k.split('.')[1]!);

/** Names that have bitten JavaScript config loaders before (prototype keys, empty, dotted). */
const NASTY_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'a.b', 'UPDATE', 'mode '];

/** Values that sit on the edges of the schema's rules, mixed with arbitrary ones below. */
const EDGE_VALUES = [
  '6h',
  '0s',
  '4m',
  '5m',
  '90s',
  '1d',
  '-1h',
  '1.5h',
  '99999999999999999999d',
  'https://forge.test',
  'http://127.0.0.1:1',
  'http://[::1]/',
  'http://example.com',
  'file:///tmp/x',
  'auto',
  'notify',
  'off',
  'github',
  'static',
  'gitlab',
  'minisign',
  'command',
  '^1',
  '>=1.2 <2',
  'not a range',
  '{version}',
  '',
  0,
  -1,
  1,
  2,
  0.5,
  0.51,
  1001,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
];

const scalar = fc.oneof(
  fc.constantFrom(...EDGE_VALUES),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.date({ noInvalidDate: true, min: new Date(0), max: new Date('9999-12-31T00:00:00Z') }),
);
const value = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 }) },
);
const keyName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...LEAVES) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const sectionName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...SECTIONS) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const sectionBody = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(keyName, value, { maxKeys: 6 }) },
  { weight: 1, arbitrary: scalar },
);
const table = fc.dictionary(sectionName, sectionBody, { maxKeys: 5 });

/** A config that validates, to be mutated byte by byte into near-misses. */
const VALID = `[update]
mode = "auto"
interval = "6h"
jitter = 0.1
rollout_window = "24h"
pin = "^1"

[forge]
kind = "gitlab"
url = "https://gitlab.test"
repo = "group/project"

[install]
verify = "minisign"
public_keys = ["RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"]
keep = 5

[restart]
cooldown = "15m"
max_per_window = 3
`;

const mutatedToml = fc
  .array(fc.tuple(fc.nat({ max: VALID.length }), fc.nat({ max: 6 }), fc.string({ maxLength: 4 })), {
    minLength: 1,
    maxLength: 4,
  })
  .map((edits) => {
    let text = VALID;
    for (const [at, del, ins] of edits) {
      const i = Math.min(at, text.length);
      text = text.slice(0, i) + ins + text.slice(i + del);
    }
    return text;
  });

/** An HEPH_* variable: a real override name, or one that only looks like it. */
const envName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(...KNOWN_KEYS).map((k) => `HEPH_${k.replace('.', '_').toUpperCase()}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((s) => `HEPH_UPDATE_${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('HEPH_FORGE_TOKEN', 'HEPH_HOME', 'HEPH_', 'HEPH_UPDATE_') },
);
const envValue = fc.oneof(
  fc.constantFrom(...EDGE_VALUES.map(String)),
  fc.string(),
  fc.constantFrom('"quoted"', '[1, 2', '{ a = 1 }', '1\nmode = "auto"', '[[x]]', '"\\u0000"'),
);
const env = fc.dictionary(envName, envValue, { maxKeys: 4 });

/**
 * The contract under fuzzing: nothing or an E_CONFIG HephError whose message names where the
 * bad value came from (the file, or the environment variable that set it) and the key, and
 * which carries a one-line hint.
 */
function expectConfigError(run: () => unknown, file: string): 'ok' | 'error' {
  let thrown: unknown;
  try {
    run();
    return 'ok';
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof HephError))
    throw new Error(`not a HephError: ${String(thrown)}`, { cause: thrown });
  expect(thrown.code).toBe('E_CONFIG');
  expect(thrown.message).toMatch(new RegExp(`^(${escapeRe(file)}|HEPH_[A-Z_]+=?.*\\(environment\\))`, 's'));
  expect(thrown.details.file).toBe(file);
  const key = thrown.details.key;
  if (typeof key === 'string' && key !== '') expect(thrown.message).toContain(key);
  expect(thrown.hint).toMatch(/\S/);
  expect(thrown.hint).not.toContain('\n');
  return 'error';
}

/** Counts outcomes, so a property that never reaches one side (all valid, all broken) fails. */
function tally() {
  const seen = { ok: 0, error: 0 };
  return {
    add: (o: 'ok' | 'error') => {
      seen[o]++;
    },
    expectBoth: () => {
      expect(seen.ok, 'some inputs validate').toBeGreaterThan(0);
      expect(seen.error, 'some inputs are refused').toBeGreaterThan(0);
    },
  };
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heph-config-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config loader under fuzzing', () => {
  const FILE = '/etc/heph/config.toml';

  it('parseTomlText: arbitrary text parses to a table or fails naming the file', () => {
    const seen = tally();
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), mutatedToml), (text) => {
        seen.add(
          expectConfigError(() => {
            const t = parseTomlText(text, FILE);
            expect(typeof t).toBe('object');
          }, FILE),
        );
      }),
      { numRuns: RUNS },
    );
    seen.expectBoth();
  });

  it('validateTable: random tables of known and unknown keys give a Config or E_CONFIG', () => {
    const seen = tally();
    fc.assert(
      fc.property(table, (t) => {
        seen.add(
          expectConfigError(() => {
            const c = validateTable(t, FILE);
            // What comes out is usable without further checks: durations are numbers.
            expect(typeof c.update.interval).toBe('number');
            expect(c.update.interval).toBeGreaterThanOrEqual(5 * 60_000);
          }, FILE),
        );
      }),
      { numRuns: RUNS },
    );
    seen.expectBoth();
  });

  it('loadConfig: real files (valid, mutated, random bytes) with random HEPH_* environment', () => {
    let n = 0;
    const seen = tally();
    fc.assert(
      fc.property(
        fc.oneof(
          table.map((t) => stringify(t)),
          mutatedToml,
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
          fc.constant(`\uFEFF${VALID}`),
        ),
        env,
        (text, e) => {
          const file = join(dir, `config-${n++}.toml`);
          writeFileSync(file, text);
          seen.add(
            expectConfigError(() => {
              const loaded = loadConfig(file, e);
              expect(loaded.file).toBe(file);
              for (const [key, name] of Object.entries(loaded.envOverrides)) {
                expect(KNOWN_KEYS).toContain(key);
                expect(e[name]).toBeDefined();
              }
            }, file),
          );
          rmSync(file);
        },
      ),
      { numRuns: RUNS },
    );
    seen.expectBoth();
  });

  it('loadConfig: a config path that is a folder or unreadable is E_CONFIG naming it', () => {
    const folder = join(dir, 'is-a-folder.toml');
    mkdirSync(folder);
    expectConfigError(() => loadConfig(folder, {}), folder);
    expect(() => loadConfig(folder, {})).toThrow(HephError);
  });
});
