// examples/slowpoke, a daemon built on the public API only, under a real systemd user manager: its
// releases made the way docs/embedding.md says (`npm run build`, then `slowpoke release pack`),
// 1.0.0 installed with `slowpoke daemon install`, 1.0.1 published while clients do long requests
// in parallel (none may fail or be cut), then a broken 1.0.2 rolled back and quarantined. The
// scenario runs as one driver (example-driver.ts) under `unshare -m`, like systemd.test.ts.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userManagerUnavailable } from '../../scripts/lib/user-manager.mjs';
import { ROOT } from '../helpers/cli.js';
import { noResult, runDriver } from './harness.js';

/** About 60 s on a loaded 2-core machine; this is when it has hung. */
const SCENARIO_TIMEOUT_MS = 180_000;
const VERSIONS = { n: '1.0.0', n1: '1.0.1', broken: '1.0.2' };
const EXAMPLE = join(ROOT, 'examples', 'slowpoke');
const SLOWPOKE = join(EXAMPLE, 'dist', 'slowpoke.mjs');

const missing = userManagerUnavailable();
const mustRun = process.env.CI === 'true';
if (missing && !mustRun) console.warn(`test/e2e/example.test.ts skipped: ${missing}`);

// biome-ignore lint/suspicious/noExplicitAny: the driver's JSON result is checked field by field below
type Result = Record<string, any>;
let result: Result = {};
let work = '';

/** `slowpoke …` from the example's build, as its developer runs it; throws on a non-zero exit. */
async function slowpoke(args: string[]): Promise<void> {
  const r = await execa(process.execPath, [SLOWPOKE, ...args], { reject: false, cwd: work });
  if (r.exitCode !== 0) throw new Error(`slowpoke ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
}

/**
 * The example as its developer has it: `heph` installed (here: linked to this checkout, whose
 * dist/ the suite built) and `npm run build` done. A broken copy of it (serve throws at start)
 * is built beside, in `work`.
 */
async function buildExample(): Promise<string> {
  const link = join(EXAMPLE, 'node_modules', 'heph');
  if (!existsSync(link)) {
    mkdirSync(join(EXAMPLE, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, link, 'dir');
  }
  const built = execa(process.execPath, ['build.mjs'], { cwd: EXAMPLE, reject: false });
  const broken = join(work, 'broken');
  mkdirSync(join(broken, 'dist'), { recursive: true });
  copyFileSync(join(EXAMPLE, 'package.json'), join(broken, 'package.json'));
  const { build } = (await import(pathToFileURL(join(EXAMPLE, 'build.mjs')).href)) as {
    build(opts: { outfile: string; plugins: unknown[] }): Promise<string>;
  };
  await build({
    outfile: join(broken, 'dist', 'slowpoke.mjs'),
    plugins: [
      {
        name: 'broken-serve',
        setup(b: { onLoad(o: { filter: RegExp }, f: () => { contents: string; loader: string }): void }) {
          b.onLoad({ filter: /[\\/]src[\\/]serve\.mjs$/ }, () => ({
            contents: "export async function serve() { throw new Error('broken on purpose'); }",
            loader: 'js',
          }));
        },
      },
    ],
  });
  const r = await built;
  if (r.exitCode !== 0) throw new Error(`the example's build failed: ${r.stderr}`);
  return broken;
}

describe.skipIf(missing !== null && !mustRun)('examples/slowpoke under a real systemd user manager', () => {
  beforeAll(async () => {
    if (missing) throw new Error(`CI=true and this machine cannot run the systemd e2e: ${missing}`);
    work = mkdtempSync(join(tmpdir(), 'heph-example-'));
    const broken = await buildExample();
    const staged = join(work, 'staged');
    // the three releases at once (this machine is slow; npm starts once for each)
    await Promise.all([
      ...[VERSIONS.n, VERSIONS.n1].map((v) =>
        slowpoke(['release', 'pack', EXAMPLE, '--version', v, '--out', join(staged, `v${v}`)]),
      ),
      slowpoke([
        'release',
        'pack',
        broken,
        '--version',
        VERSIONS.broken,
        '--out',
        join(staged, `v${VERSIONS.broken}`),
      ]),
    ]);
    const run = await runDriver({
      entry: 'test/e2e/example-driver.ts',
      work,
      inputVar: 'HEPH_EXAMPLE_INPUT',
      input: {
        staged,
        slowpoke: SLOWPOKE,
        client: join(EXAMPLE, 'src', 'client.mjs'),
        versions: VERSIONS,
      },
      marker: 'EXAMPLE-RESULT',
      timeoutMs: SCENARIO_TIMEOUT_MS,
      onStderr: (c) => process.stderr.write(c),
    });
    if (!run.result) throw noResult(run);
    result = run.result as Result;
    if (!result.ok)
      console.error(`driver failed: ${result.error}\n--- manager log ---\n${result.managerLogTail}`);
    else console.error(`example e2e numbers: ${JSON.stringify(numbers(result))}`);
  }, SCENARIO_TIMEOUT_MS + 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ran the whole scenario', () => {
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
  });

  it('slowpoke daemon install starts 1.0.0 as slowpoked.service', () => {
    expect(result.install.exitCode).toBe(0);
    expect(result.afterInstall.version).toBe(VERSIONS.n);
    expect(result.afterInstall.unit.ActiveState).toBe('active');
  });

  it('clients doing long requests through the self-update to 1.0.1 saw no failed or cut request', () => {
    const u = result.update;
    expect(u.failed).toEqual([]);
    // answered by both versions: the clients ran across the restart
    expect(u.versions).toEqual(expect.arrayContaining([VERSIONS.n, VERSIONS.n1]));
    expect(u.onOld).toBeGreaterThanOrEqual(4);
    expect(u.onNew).toBeGreaterThanOrEqual(4);
  });

  it('the unit was restarted by systemd into 1.0.1, audited', () => {
    expect(Number(result.update.unit.NRestarts)).toBeGreaterThanOrEqual(1);
    expect(result.update.unit.ActiveState).toBe('active');
    expect(result.update.events).toContain(`update.installed@${VERSIONS.n1}`);
    expect(result.update.events).toContain(`update.restarting@${VERSIONS.n1}`);
  });

  it("the app's own client command answers from 1.0.1", () => {
    expect(result.command.exitCode).toBe(0);
    expect(JSON.parse(result.command.stdout)).toMatchObject({ version: VERSIONS.n1, slept: 100 });
  });

  it('a broken 1.0.2 is rolled back by the launcher and quarantined; 1.0.1 serves again', () => {
    const b = result.broken;
    expect(b.events).toContain(`update.installed@${VERSIONS.broken}`);
    expect(b.events).toContain(`update.rolled-back@${VERSIONS.n1}`);
    expect(b.check.doc).toMatchObject({ latest: VERSIONS.broken, candidate: null, reason: 'quarantined' });
    expect(b.version).toBe(VERSIONS.n1);
    expect(b.unit.ActiveState).toBe('active');
  });
});

/** What the report quotes. */
function numbers(r: Result) {
  const u = r.update;
  return {
    requests: u.requests,
    failed: u.failed.length,
    onOld: u.onOld,
    onNew: u.onNew,
    switchSeconds: u.switchSeconds,
    gapSeconds: u.gapSeconds,
    maxExtraWaitMs: u.maxExtraWaitMs,
    NRestarts: u.unit.NRestarts,
  };
}
