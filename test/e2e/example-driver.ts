// The scenario of examples/slowpoke, run by example.test.ts under `unshare -m` (bundled by esbuild
// first): a real systemd user manager, slowpoke 1.0.0 installed with its own `daemon install`
// from a static release folder (file://), clients doing long requests in parallel while 1.0.1 is
// published and installed, then a broken 1.0.2 that the launcher rolls back. The releases were
// packed outside with `slowpoke release pack`; publishing one here is what docs/embedding.md
// says: its folder into the release folder, then `slowpoke release index`. Prints one
// `EXAMPLE-RESULT {json}` line; the test asserts on it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { appNames } from '../../src/app/identity.js';
import { connectWithGrace } from '../../src/control/grace.js';
import { resolvePaths } from '../../src/platform/paths.js';
import {
  hephRunner,
  readAudit,
  runScenario,
  type Scenario,
  say,
  sleep,
  type UserManager,
  waitUntil,
} from './scenario.js';

interface Input {
  /** `<staged>/v<version>/`: slowpoke-<version>.tgz and SHA256SUMS, from `slowpoke release pack`. */
  staged: string;
  /** The example's built program (the developer's slowpoke), for `release index`. */
  slowpoke: string;
  /** examples/slowpoke/src/client.mjs: the example's own client, loaded as it is (plain JS). */
  client: string;
  versions: { n: string; n1: string; broken: string };
  pidFile: string;
}

/** The example's client: GET `path` on `socket`, over the connection `connect` makes. */
type Request = (socket: string, path: string, connect: (p: string) => Promise<Socket>) => Promise<unknown>;
let request: Request;

interface Call {
  worker: number;
  ms: number;
  start: number;
  end: number;
  version: string | null;
  error?: string;
}

export const UNIT = 'slowpoked.service';
/** Parallel clients, each doing one long request after another. */
const WORKERS = 4;
/** Each request sleeps this long on the daemon, plus 250 ms per worker number. */
const BASE_MS = 1_000;
/** Before publishing N+1, the clients run this long against N. */
const WARM_UP_MS = 2_000;
/** Answers from N+1 each worker must have had before the loop stops (it ran past the restart). */
const CALLS_ON_NEW = 1;

async function main(m: UserManager, input: Input, { result, onFailure }: Scenario): Promise<void> {
  const { n, n1, broken } = input.versions;
  ({ request } = (await import(pathToFileURL(input.client).href)) as { request: Request });
  const env = { ...m.env, SLOWPOKE_DEV_SCHEDULE_SCALE: '0.01', NO_COLOR: '1' };
  const paths = resolvePaths(env, { ...appNames('slowpoke'), entry: 'dist/slowpoke.mjs' });
  const socket = join(paths.runDir, 'slowpoke.sock');
  const run = hephRunner(env);
  const audit = () => (existsSync(paths.auditFile) ? readAudit(paths) : []);
  const events = () => audit().map((e) => `${e.event}@${e.version}`);
  const show = () => m.show(UNIT, ['ActiveState', 'SubState', 'NRestarts', 'MainPID', 'ExecMainStatus']);
  /** The version answering /health now, or null (a plain connect: no grace). */
  const answering = async (): Promise<string | null> => {
    try {
      return ((await request(socket, '/health', plainConnect)) as { version: string }).version;
    } catch {
      return null;
    }
  };
  const runningVersion = (v: string) => async () => ((await answering()) === v ? v : null);

  const releases = join(m.root, 'releases');
  mkdirSync(releases);
  /** Publishing: the release's folder into the static folder, then its index rewritten. */
  const publish = (v: string) => {
    cpSync(join(input.staged, `v${v}`), join(releases, `v${v}`), { recursive: true });
    execFileSync(process.execPath, [input.slowpoke, 'release', 'index', releases], { env, stdio: 'ignore' });
  };

  onFailure(async () => ({
    unit: await m.show(UNIT, ['ActiveState', 'SubState', 'Result', 'NRestarts', 'MainPID', 'ExecMainStatus']),
    status: (await m.systemctl('status', '--no-pager', '--full', UNIT)).stdout.slice(-3000),
    audit: events(),
    launcher: existsSync(join(paths.state, 'launcher.json'))
      ? readFileSync(join(paths.state, 'launcher.json'), 'utf8')
      : null,
  }));

  publish(n);
  // The config a user writes (docs/embedding.md): the static folder, auto mode, a short drain.
  mkdirSync(join(paths.config, '..'), { recursive: true });
  writeFileSync(
    paths.config,
    [
      '[update]',
      'interval = "5m"', // × SLOWPOKE_DEV_SCHEDULE_SCALE 0.01: a poll every ~3 s
      '[forge]',
      'kind = "static"',
      `url = "file://${releases}/"`,
      '[install]',
      'allow_in_container = true', // these machines have /.dockerenv
      '[restart]',
      'cooldown = "1s"',
      'health_grace = "3s"',
      'drain_timeout = "10s"',
      '',
    ].join('\n'),
  );
  // slowpoke as a user has it: its release unpacked somewhere
  const pkg = join(m.root, 'pkg');
  mkdirSync(pkg);
  execFileSync('tar', ['-xzf', join(releases, `v${n}`, `slowpoke-${n}.tgz`), '-C', pkg]);
  const slowpokeN = join(pkg, 'package', 'dist', 'slowpoke.mjs');
  const set = await run(slowpokeN, ['config', 'set', 'update.mode', 'auto']);
  if (set.exitCode !== 0) throw new Error(`config set failed: ${set.stderr}`);

  say(`slowpoke ${n}: daemon install`);
  const inst = await run(slowpokeN, ['daemon', 'install', '--json']);
  result.install = { exitCode: inst.exitCode, stderr: String(inst.stderr).slice(-1000) };
  if (inst.exitCode !== 0) throw new Error(`daemon install failed: ${inst.stderr}`);
  result.afterInstall = {
    version: await waitUntil(`slowpoke ${n} answering`, runningVersion(n)),
    unit: await show(),
  };

  say(`${WORKERS} clients doing ${BASE_MS}-${BASE_MS + 250 * (WORKERS - 1)} ms requests; publishing ${n1}`);
  const clients = clientLoop(socket, paths.stopMarker);
  await sleep(WARM_UP_MS);
  const published = Date.now();
  publish(n1);
  await waitUntil(`an answer from ${n1}`, async () => clients.calls.some((c) => c.version === n1));
  await waitUntil(
    `every client answered by ${n1}`,
    async () =>
      Array.from({ length: WORKERS }, (_, w) => w).every(
        (w) => clients.calls.filter((c) => c.worker === w && c.version === n1).length >= CALLS_ON_NEW,
      ),
    30_000,
  );
  const calls = await clients.stop();
  const firstNew = Math.min(...calls.filter((c) => c.version === n1).map((c) => c.end));
  const lastOld = Math.max(...calls.filter((c) => c.version === n).map((c) => c.end));
  result.update = {
    requests: calls.length,
    failed: calls.filter((c) => c.error !== undefined),
    versions: [...new Set(calls.map((c) => c.version))],
    onOld: calls.filter((c) => c.version === n).length,
    onNew: calls.filter((c) => c.version === n1).length,
    // from publishing N+1 to its first answer, and the longest any client waited beyond its sleep
    switchSeconds: (firstNew - published) / 1000,
    gapSeconds: (firstNew - lastOld) / 1000,
    maxExtraWaitMs: Math.max(...calls.map((c) => c.end - c.start - c.ms)),
    unit: await show(),
    events: events(),
  };

  // the app's own client command, from the version now current
  const current = join(paths.store, 'current', 'dist', 'slowpoke.mjs');
  const cmd = await run(current, ['sleep', '--ms', '100']);
  result.command = { exitCode: cmd.exitCode, stdout: String(cmd.stdout).trim(), stderr: String(cmd.stderr) };

  say(`publishing ${broken}, whose serve throws at start`);
  publish(broken);
  await waitUntil('the launcher to roll back', async () =>
    events().some((e) => e.startsWith('update.rolled-back')),
  );
  await waitUntil(`slowpoke ${n1} answering again`, runningVersion(n1));
  const check = await run(current, ['update', 'check', '--json']);
  result.broken = {
    events: events(),
    check: { exitCode: check.exitCode, doc: tryJson(check.stdout) },
    version: await answering(),
    unit: await show(),
  };
}

/** A connect that fails at once when nothing listens (for polling /health). */
function plainConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** WORKERS clients doing long requests one after another, with heph's restart grace. */
function clientLoop(socket: string, stopMarker: string) {
  const calls: Call[] = [];
  let running = true;
  const worker = async (w: number) => {
    while (running) {
      const ms = BASE_MS + 250 * w;
      const call: Call = { worker: w, ms, start: Date.now(), end: 0, version: null };
      try {
        const answer = (await request(socket, `/sleep?ms=${ms}`, (p: string) =>
          connectWithGrace(p, { stopMarker }),
        )) as { version: string; slept: number };
        call.version = answer.version;
        if (answer.slept !== ms) call.error = `slept ${answer.slept}, not ${ms}`;
      } catch (e) {
        call.error = `${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`;
      }
      call.end = Date.now();
      calls.push(call);
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  return {
    calls,
    async stop() {
      running = false;
      await done;
      return calls;
    },
  };
}

function tryJson(text: unknown): unknown {
  try {
    return JSON.parse(String(text));
  } catch {
    return String(text).slice(-1000);
  }
}

await runScenario<Input>({
  marker: 'EXAMPLE-RESULT',
  inputVar: 'HEPH_EXAMPLE_INPUT',
  body: main,
  units: [UNIT],
});
