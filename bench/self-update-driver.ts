// The self-update measurement, run by self-update.bench.ts under `unshare -m` (bundled first):
// a real systemd user manager (scripts/lib/user-manager.mjs, through test/e2e/scenario.ts), heph installed
// from release artifacts, and a client probing GET /v1/health every 20 ms through a self-update,
// first with hephd listening itself, then with the socket unit. Prints one `BENCH-RESULT {json}`.
import { join } from 'node:path';
import { request } from 'node:http';
import { resolvePaths } from '../src/platform/paths.js';
import {
  hephRunner,
  readAudit,
  runScenario,
  type Scenario,
  scenarioEnv,
  sleep,
  UNIT,
  type UserManager,
  unpackRelease,
  waitUntil,
  writeScenarioConfig,
} from '../test/e2e/scenario.js';
import { startForge } from '../test/helpers/forge-server.js';

interface Input {
  /** getArtifacts().dir: `<dir>/<version>/heph-<version>.tgz` and SHA256SUMS. */
  artifacts: string;
  pidFile: string;
}

/** The probe's pace: fine enough to see a 100 ms hole, light enough not to load the daemon. */
const PROBE_GAP_MS = 20;
/** A probe waiting longer than this has met a hung daemon, which the figures must show. */
const PROBE_TIMEOUT_MS = 15_000;

interface Probe {
  sent: number;
  /** When the answer (or the error) came. */
  done: number;
  ok: boolean;
  code?: string;
}

/** GET /v1/health over the unix socket one after another, PROBE_GAP_MS apart; no retries. */
function probeLoop(socketPath: string) {
  const probes: Probe[] = [];
  let running = true;
  const one = () =>
    new Promise<Probe>((resolve) => {
      const sent = Date.now();
      const req = request({ socketPath, path: '/v1/health', timeout: PROBE_TIMEOUT_MS });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ sent, done: Date.now(), ok: false, code: e.code ?? e.message }),
      );
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ sent, done: Date.now(), ok: res.statusCode !== undefined }));
      });
      req.end();
    });
  const done = (async () => {
    while (running) {
      probes.push(await one());
      await sleep(PROBE_GAP_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return probes;
    },
  };
}

async function run(m: UserManager, input: Input, { result, onFailure }: Scenario): Promise<void> {
  const env = scenarioEnv(m);
  const paths = resolvePaths(env);
  const forge = await startForge({ kind: 'github' });
  const heph = hephRunner(env);
  onFailure(async () => ({
    unitStatus: (await m.systemctl('status', '--no-pager', '-l', UNIT)).stdout,
  }));
  const version = async (): Promise<string | null> => {
    const r = await heph(join(paths.store, 'current', 'dist', 'heph.mjs'), ['status', '--json']);
    try {
      return (JSON.parse(String(r.stdout)) as { version?: string }).version ?? null;
    } catch {
      return null;
    }
  };
  const audit = () => readAudit(paths);

  /** Publishes `to` while probing; the figures of one self-update. */
  const measure = async (to: string) => {
    const probes = probeLoop(paths.socket);
    await sleep(500); // the old daemon answering steadily before the release appears
    const published = Date.now();
    forge.publishArtifacts(to, join(input.artifacts, to));
    await waitUntil(`hephd ${to} answering`, async () => (await version()) === to);
    await sleep(500);
    const all = await probes.stop();
    const answered = all.filter((p) => p.ok);
    let gap = 0;
    let gapEnd = published;
    for (let i = 1; i < answered.length; i++) {
      const d = answered[i]!.done - answered[i - 1]!.done;
      if (d > gap) {
        gap = d;
        gapEnd = answered[i]!.done;
      }
    }
    const events = audit().filter((e) => e.version === to);
    const seen = events.find((e) => e.event === 'update.available') ?? events[0];
    const seenAt = seen ? Date.parse(seen.time) : Number.NaN;
    return {
      to,
      probes: all.length,
      refused: all.filter((p) => !p.ok).map((p) => p.code),
      gapMs: gap,
      publishedToSeenMs: seenAt - published,
      seenToServingMs: gapEnd - seenAt,
      unit: await m.show(UNIT, ['NRestarts', 'ActiveState']),
    };
  };

  try {
    forge.publishArtifacts('1.0.0', join(input.artifacts, '1.0.0'));
    writeScenarioConfig(paths, forge);
    const inst = await heph(unpackRelease(m, input.artifacts, '1.0.0'), ['daemon', 'install', '--json']);
    if (inst.exitCode !== 0) throw new Error(`daemon install failed: ${inst.stderr}`);
    await waitUntil('hephd 1.0.0 answering', async () => (await version()) === '1.0.0');
    const plain = await measure('1.1.0');

    const current = join(paths.store, 'current', 'dist', 'heph.mjs');
    // Stopped first: with hephd still listening on the path, hephd.socket cannot bind it and
    // `daemon install --socket` fails (reported; the e2e scenario reaches this step stopped).
    await m.systemctl('stop', UNIT);
    const sock = await heph(current, ['daemon', 'install', '--socket', '--json']);
    if (sock.exitCode !== 0) throw new Error(`daemon install --socket failed: ${sock.stderr}`);
    await waitUntil('hephd 1.1.0 on the activated socket', async () => (await version()) === '1.1.0');
    await sleep(3_000); // past health_grace, so the next restart is an ordinary one
    const socket = await measure('1.2.0');
    Object.assign(result, { plain, socket });
  } finally {
    await forge.close();
  }
}

await runScenario<Input>({ marker: 'BENCH-RESULT', inputVar: 'HEPH_BENCH_INPUT', body: run });
