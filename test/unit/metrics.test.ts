// The metrics text, read back by a real parser of the Prometheus text format
// (parse-prometheus-text-format, a port of the Python client's parser).
import { spawnSync } from 'node:child_process';
import parse from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { countRollbacks, type MetricsSnapshot, renderMetrics } from '../../src/daemon/metrics.js';

const SNAP: MetricsSnapshot = {
  version: '1.2.3',
  updateAvailable: true,
  pendingRestart: false,
  counters: { checks: { ok: 5, not_modified: 40, error: 2 }, installs: { ok: 1 } },
  lastCheckAt: Date.parse('2026-01-01T00:00:00Z'),
  consecutiveFailures: 0,
  rollbacks: 1,
  circuitOpen: false,
  paused: true,
  restartsInWindow: 2,
};

function byName(text: string) {
  return Object.fromEntries(parse(text).map((f) => [f.name, f]));
}

/** Prometheus' own linter (Debian's prometheus package); CI installs it, so there it must run. */
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasPromtool && process.env.CI !== 'true') {
  console.log('skipping promtool check metrics: promtool is not installed (apt-get install prometheus)');
}
const promtoolIt = hasPromtool || process.env.CI === 'true' ? it : it.skip;

describe('renderMetrics', () => {
  promtoolIt('passes `promtool check metrics` (format and naming lint) for heph and an embedding app', () => {
    for (const prefix of ['heph', 'acme']) {
      for (const snap of [SNAP, { ...SNAP, lastCheckAt: null, counters: { checks: {}, installs: {} } }]) {
        const r = spawnSync('promtool', ['check', 'metrics'], {
          input: renderMetrics(prefix, snap),
          encoding: 'utf8',
        });
        expect(`${r.stdout}${r.stderr}`).toBe('');
        expect(r.status).toBe(0);
      }
    }
    // It does find faults: the check can fail.
    const bad = spawnSync('promtool', ['check', 'metrics'], {
      input: '# HELP heph_x x\n# TYPE heph_x counter\nheph_x 1\n',
      encoding: 'utf8',
    });
    expect(bad.status).not.toBe(0);
  });

  it('writes every SPEC metric, typed and with HELP, that a real parser reads back', () => {
    const text = renderMetrics('heph', SNAP);
    expect(text.endsWith('\n')).toBe(true);
    const m = byName(text);
    expect(Object.keys(m).sort()).toEqual(
      [
        'heph_guard_circuit_open',
        'heph_guard_paused',
        'heph_info',
        'heph_restarts_in_window',
        'heph_rollbacks_total',
        'heph_update_available',
        'heph_update_checks_total',
        'heph_update_consecutive_failures',
        'heph_update_installs_total',
        'heph_update_last_check_timestamp_seconds',
        'heph_update_pending_restart',
      ].sort(),
    );
    expect(m.heph_info).toMatchObject({
      type: 'GAUGE',
      metrics: [{ value: '1', labels: { version: '1.2.3' } }],
    });
    expect(m.heph_update_available?.metrics[0]?.value).toBe('1');
    expect(m.heph_update_checks_total?.type).toBe('COUNTER');
    expect(m.heph_update_checks_total?.metrics).toEqual([
      { value: '5', labels: { result: 'ok' } },
      { value: '40', labels: { result: 'not_modified' } },
      { value: '2', labels: { result: 'error' } },
    ]);
    expect(m.heph_update_installs_total?.metrics).toEqual([
      { value: '1', labels: { result: 'ok' } },
      { value: '0', labels: { result: 'failed' } },
    ]);
    expect(Number(m.heph_update_last_check_timestamp_seconds?.metrics[0]?.value)).toBe(1767225600);
    expect(m.heph_rollbacks_total).toMatchObject({ type: 'COUNTER', metrics: [{ value: '1' }] });
    expect(m.heph_guard_paused?.metrics[0]?.value).toBe('1');
    expect(m.heph_guard_circuit_open?.metrics[0]?.value).toBe('0');
    expect(m.heph_restarts_in_window?.metrics[0]?.value).toBe('2');
    for (const f of parse(text)) expect(f.help.length).toBeGreaterThan(0);
  });

  it("an embedding app's name is the prefix; a name a metric cannot hold is made one", () => {
    expect(Object.keys(byName(renderMetrics('acme', SNAP)))).toContain('acme_update_available');
    expect(Object.keys(byName(renderMetrics('my-app', SNAP)))).toContain('my_app_info');
  });

  it('escapes label values; the last-check time is 0 before the first check', () => {
    const text = renderMetrics('heph', { ...SNAP, version: '1.0.0-"odd"\\\nx', lastCheckAt: null });
    const m = byName(text);
    expect(m.heph_info?.metrics[0]?.labels?.version).toBe('1.0.0-"odd"\\\nx');
    expect(m.heph_update_last_check_timestamp_seconds?.metrics[0]?.value).toBe('0');
  });

  it('counts rollbacks from the audit log, skipping torn lines', () => {
    const audit = [
      '{"time":"t","event":"update.rolled-back","version":"1.0.0"}',
      '{"time":"t","event":"update.installed","version":"1.1.0"}',
      '{"time":"t","event":"update.rolled-back","version":"1.0.0","by":"launcher"}',
      '{"time":"t","event":"update.rolled-b',
    ].join('\n');
    expect(countRollbacks(audit)).toBe(2);
    expect(countRollbacks(undefined)).toBe(0);
  });
});
