// GET /v1/metrics of a real hephd against the loopback forge, read by a real parser of the
// Prometheus text format, the [metrics] textfile beside it, and counters that survive a restart.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import parse from 'parse-prometheus-text-format';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Scratch, scratch } from '../helpers/cli.js';
import { plainProbeRoot, type RunningDaemon, startDaemon, waitFor } from '../helpers/daemon.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

let s: Scratch;
let forge: TestForge;
const running: RunningDaemon[] = [];

beforeEach(async () => {
  s = scratch('heph-metrics-');
  forge = await startForge({ kind: 'github' });
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('SIGKILL').catch(() => {});
  await forge.close();
  s.cleanup();
});

/** GET over the unix socket, keeping the body as text and the Content-Type. */
function getText(socketPath: string, path: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'GET', path });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }),
      );
    });
    req.end();
  });
}

function values(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of parse(text)) {
    for (const m of f.metrics) {
      const l = Object.entries(m.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      out[l ? `${f.name}{${l}}` : f.name] = m.value;
    }
  }
  return out;
}

describe('metrics of a real hephd', () => {
  it('serves the Prometheus text, writes the textfile atomically, and keeps counters across a restart', async () => {
    const dir = join(s.home, 'textfile');
    mkdirSync(dir);
    const textfile = join(dir, 'heph.prom');
    // interval 5m and no schedule scale: the first timed check is minutes away, so only the
    // checks this test asks for are counted.
    s.writeConfig(
      `[update]\nmode = "notify"\ninterval = "5m"\n\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n\n[metrics]\ntextfile = "${textfile}"\n`,
    );
    const start = async () => {
      const d = await startDaemon({ home: s.home, env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot() } });
      running.push(d);
      return d;
    };
    let d = await start();
    const first = await getText(d.socket, '/v1/metrics');
    expect(first.status).toBe(200);
    expect(first.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(values(first.text)).toMatchObject({
      'heph_info{version=0.1.0}': '1',
      heph_update_available: '0',
      'heph_update_checks_total{result=ok}': '0',
    });

    forge.publish({ tag: 'v0.1.1', assets: [{ name: 'heph-0.1.1.tgz', content: 'x' }] });
    expect((await d.call('POST', '/v1/update/check')).status).toBe(200);
    expect((await d.call('POST', '/v1/update/check')).status).toBe(200); // ETag: 304
    const after = values((await getText(d.socket, '/v1/metrics')).text);
    expect(after).toMatchObject({
      heph_update_available: '1',
      'heph_update_checks_total{result=ok}': '1',
      'heph_update_checks_total{result=not_modified}': '1',
      'heph_update_checks_total{result=error}': '0',
    });
    expect(Number(after.heph_update_last_check_timestamp_seconds)).toBeGreaterThan(1.7e9);

    // The textfile says the same, is world-readable for node_exporter, and no temp file is left.
    await waitFor('the textfile to have both checks', () =>
      readFileSync(textfile, 'utf8').includes('heph_update_checks_total{result="not_modified"} 1'),
    );
    expect(values(readFileSync(textfile, 'utf8'))).toMatchObject(after);
    expect(statSync(textfile).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['heph.prom']);

    // A forge failure counts as an error; all of it survives a restart (state.json).
    await forge.close();
    expect((await d.call('POST', '/v1/update/check')).status).toBe(502);
    await d.stop();
    forge = await startForge({ kind: 'github' });
    d = await start();
    expect(values((await getText(d.socket, '/v1/metrics')).text)).toMatchObject({
      'heph_update_checks_total{result=ok}': '1',
      'heph_update_checks_total{result=not_modified}': '1',
      'heph_update_checks_total{result=error}': '1',
      heph_update_consecutive_failures: '1',
    });
  });
});
