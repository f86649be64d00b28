// The files heph keeps for itself: a corrupt or foreign-shaped state.json, launcher.json or
// http-cache.json is set aside (`<file>.corrupt-<time>`), reported once and counted afresh;
// reads are size-capped and refuse FIFOs and devices; times from the future are clamped to now.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { readState, resumeState, updateState } from '../../src/update/state.js';
import { decide } from '../../src/update/guard.js';
import { HTTP_CACHE_FILE, HttpCache } from '../../src/forge/cache.js';
import { launcherStateFile, readLauncherState, readQuarantined } from '../../src/install/launcher-state.js';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';
import { listSetAside, MAX_STATE_FILE_BYTES, readCappedText } from '../../src/platform/state-file.js';
import { tempDir } from '../helpers/tmp.js';

function home(): Paths {
  const paths = resolvePaths({ HEPH_HOME: tempDir('heph-statefiles-') });
  mkdirSync(paths.state, { recursive: true });
  return paths;
}

const NOW = Date.parse('2026-12-03T08:00:00Z');
const YEAR = 365 * 86_400_000;

/** Runs `fn` with stderr captured (one-shot commands warn there). */
function capture<T>(fn: () => T): { value: T; stderr: string } {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

function expectSetAside(paths: Paths, file: string, text: string, reason: RegExp, stderr: string) {
  const aside = listSetAside(paths.state);
  expect(aside).toHaveLength(1);
  expect(aside[0]).toMatch(new RegExp(`^${file}\\.corrupt-\\d{8}T\\d{6}\\.\\d{3}Z$`));
  expect(readFileSync(aside[0]!, 'utf8')).toBe(text);
  const events = readAudit(paths.auditFile).filter((e) => e.event === 'state.corrupt');
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ file, setAside: aside[0] });
  expect(String(events[0]!.reason)).toMatch(reason);
  expect(stderr).toContain(`warning: ${file} is unusable (`);
}

describe('state.json', () => {
  it.each([
    ['junk', 'not json', /not valid JSON/],
    ['an array', '[1]', /the document/],
    ['a string restart time', '{"guard":{"restarts":["soon"]}}', /guard\.restarts\.0/],
    ['a null guard', '{"guard":null}', /guard/],
    ['a negative failure count', '{"consecutiveFailures":-1}', /consecutiveFailures/],
    ['a number where a list goes', '{"announced":5}', /announced/],
  ])('%s is set aside, reported once and counted afresh', (_, text, reason) => {
    const paths = home();
    writeFileSync(paths.stateFile, text);
    const { value, stderr } = capture(() => readState(paths, { now: NOW }));
    expect(value.consecutiveFailures).toBe(0);
    expect(value.guard.restarts).toEqual([]);
    expectSetAside(paths, paths.stateFile, text, reason, stderr);
    expect(existsSync(paths.stateFile)).toBe(false);
    // once: the file is gone, the next read is simply empty
    expect(capture(() => readState(paths, { now: NOW })).stderr).toBe('');
  });

  it('an older file (keys missing) keeps what it has; a newer one keeps the keys it added', () => {
    const paths = home();
    writeFileSync(paths.stateFile, JSON.stringify({ latest: '1.2.0', future: { x: 1 } }));
    const s = readState(paths, { now: NOW });
    expect(s.latest).toBe('1.2.0');
    expect(s.announced).toEqual([]);
    expect((s as unknown as Record<string, unknown>).future).toEqual({ x: 1 });
    expect(listSetAside(paths.state)).toEqual([]);
  });

  it('times from the future (a clock that was ahead) are clamped to now on read', () => {
    const paths = home();
    writeFileSync(
      paths.stateFile,
      JSON.stringify({
        lastCheckAt: new Date(NOW + YEAR).toISOString(),
        guard: {
          restarts: [NOW + YEAR],
          circuitOpenedAt: NOW + YEAR,
          paused: true,
          pausedUntil: NOW + 3_600_000,
        },
      }),
    );
    const s = readState(paths, { now: NOW });
    expect(s.lastCheckAt).toBe(new Date(NOW).toISOString());
    expect(s.guard).toEqual({
      restarts: [NOW],
      circuitOpenedAt: NOW,
      paused: true,
      pausedUntil: NOW + 3_600_000,
    });
  });

  it('resume (CLI or daemon: resumeState) clears a block a future restart time would hold for a year', () => {
    const paths = home();
    writeFileSync(
      paths.stateFile,
      JSON.stringify({ guard: { restarts: [NOW + YEAR] }, blocked: ['2.0.0:cooldown'] }),
    );
    const policy = { cooldownMs: 15 * 60_000, maxPerWindow: 3, windowMs: 86_400_000 };
    const s = updateState(paths, resumeState, { now: NOW });
    expect(s.blocked).toEqual([]);
    expect(decide(readState(paths, { now: NOW }).guard, policy, NOW)).toEqual({ allowed: true });
  });
});

describe('launcher.json (the TypeScript side)', () => {
  it.each([
    ['{"quarantined":[null]}', /quarantined\.0/],
    ['{"quarantined":[{"version":1}]}', /quarantined\.0\.version/],
    ['{"attempts":{"1.0.0":"3"}}', /attempts\.1\.0\.0/],
    ['{"healthy":"1.0.0"}', /healthy/],
    ['"junk"', /the document/],
  ])('%s: readQuarantined answers (no TypeError) and the file is set aside', (text, reason) => {
    const paths = home();
    const file = launcherStateFile(paths);
    writeFileSync(file, text);
    const { value, stderr } = capture(() => readQuarantined(paths));
    expect(value).toEqual([]);
    expectSetAside(paths, file, text, reason, stderr);
    expect(readLauncherState(paths).attempts).toEqual({});
  });
});

describe('http-cache.json', () => {
  it.each([
    ['{"v":1,"entries":{"https://x/":{"etag":"e","body":"b","at":1,"headers":{"link":5}}}}', /headers\.link/],
    ['{"v":1,"entries":[]}', /entries/],
    ['null', /the document/],
    ['{"v":1,', /not valid JSON/],
  ])('%s is set aside; the cache starts empty', (text, reason) => {
    const paths = home();
    const file = join(paths.state, HTTP_CACHE_FILE);
    writeFileSync(file, text);
    const { value, stderr } = capture(() => HttpCache.forPaths(paths));
    expect(value.get('https://x/')).toBeUndefined();
    expectSetAside(paths, file, text, reason, stderr);
  });

  it('a valid file is read as it is', () => {
    const paths = home();
    const file = join(paths.state, HTTP_CACHE_FILE);
    const entry = { etag: 'e', body: 'b', at: 1, headers: { link: '<x>; rel="next"' } };
    writeFileSync(file, JSON.stringify({ v: 1, entries: { 'https://x/': entry } }));
    expect(HttpCache.forPaths(paths).get('https://x/')).toEqual(entry);
    expect(listSetAside(paths.state)).toEqual([]);
  });
});

describe('readCappedText', () => {
  it('reads a regular file; undefined when there is none', () => {
    const dir = tempDir('heph-capped-');
    writeFileSync(join(dir, 'a'), 'hello');
    expect(readCappedText(join(dir, 'a'), 10)).toBe('hello');
    expect(readCappedText(join(dir, 'missing'), 10)).toBeUndefined();
  });

  it('refuses a file over the cap, a FIFO (without blocking), a device and a folder, naming the file', () => {
    const dir = tempDir('heph-capped-');
    writeFileSync(join(dir, 'big'), 'x'.repeat(11));
    expect(() => readCappedText(join(dir, 'big'), 10)).toThrow(`${join(dir, 'big')} is larger than 10 bytes`);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(() => readCappedText(join(dir, 'fifo'), 10)).toThrow(
      `${join(dir, 'fifo')} is a FIFO, not a regular file`,
    );
    symlinkSync('/dev/zero', join(dir, 'zero'));
    expect(() => readCappedText(join(dir, 'zero'), MAX_STATE_FILE_BYTES)).toThrow(
      `${join(dir, 'zero')} is a character device, not a regular file`,
    );
    mkdirSync(join(dir, 'folder'));
    expect(() => readCappedText(join(dir, 'folder'), 10)).toThrow('is a folder');
  });

  it('a state file that is a FIFO is set aside, not waited on', () => {
    const paths = home();
    execFileSync('mkfifo', [paths.stateFile]);
    const { value, stderr } = capture(() => readState(paths, { now: NOW }));
    expect(value.consecutiveFailures).toBe(0);
    expect(stderr).toContain('is a FIFO, not a regular file');
    expect(readdirSync(paths.state).some((n) => n.startsWith('state.json.corrupt-'))).toBe(true);
  });
});

describe('a start that failed on the config is not counted against the version', () => {
  it('uncountStart takes one start back, and forgets the version at zero', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { resolvePaths } = await import('../../src/platform/paths.js');
    const ls = await import('../../src/install/launcher-state.js');
    const paths = resolvePaths({ HEPH_HOME: mkdtempSync(join(tmpdir(), 'heph-uncount-')) });
    ls.writeLauncherState(paths, { ...ls.emptyLauncherState(), attempts: { '1.1.0': 2 } });
    ls.uncountStart(paths, '1.1.0');
    expect(ls.readLauncherState(paths).attempts).toEqual({ '1.1.0': 1 });
    ls.uncountStart(paths, '1.1.0');
    expect(ls.readLauncherState(paths).attempts).toEqual({});
    ls.uncountStart(paths, '1.1.0'); // nothing to take back
    expect(ls.readLauncherState(paths).attempts).toEqual({});
  });
});
