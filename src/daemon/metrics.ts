// The daemon's metrics in the Prometheus text exposition format 0.0.4, for GET /v1/metrics and
// the node_exporter textfile ([metrics] textfile). Pure: a snapshot in, text out; the metric names
// start with the app's name (heph_…, acme_… for an embedding app). docs/operations.md "Metrics".

/** The Content-Type Prometheus expects for this format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Check results counted by `<prefix>_update_checks_total{result}`. */
export const CHECK_RESULTS = ['ok', 'not_modified', 'error'] as const;
/** Install results counted by `<prefix>_update_installs_total{result}`. */
export const INSTALL_RESULTS = ['ok', 'failed'] as const;

export type CheckResultLabel = (typeof CHECK_RESULTS)[number];
export type InstallResultLabel = (typeof INSTALL_RESULTS)[number];

/** Counters kept in state.json, so they survive restarts (a self-update is a restart). */
export interface MetricCounters {
  checks: Partial<Record<CheckResultLabel, number>>;
  installs: Partial<Record<InstallResultLabel, number>>;
}

export function emptyCounters(): MetricCounters {
  return { checks: {}, installs: {} };
}

export interface MetricsSnapshot {
  version: string;
  updateAvailable: boolean;
  pendingRestart: boolean;
  counters: MetricCounters;
  /** Epoch ms of the last check, or null before the first (rendered as 0). */
  lastCheckAt: number | null;
  consecutiveFailures: number;
  rollbacks: number;
  circuitOpen: boolean;
  paused: boolean;
  restartsInWindow: number;
}

/** A label value with `\`, `"` and line feeds escaped, as the format requires. */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: integers as such, no exponent surprises; non-finite as the format spells it. */
function sampleValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return String(n);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * The text for `snapshot`. `prefix` is the app's name: characters a metric name cannot hold
 * (an app named `my-app`) become `_`.
 */
export function renderMetrics(prefix: string, s: MetricsSnapshot): string {
  const p = prefix.replace(/[^a-zA-Z0-9_:]/g, '_');
  const lines: string[] = [];
  const family = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: Array<[Record<string, string>, number]>,
  ) => {
    const full = `${p}_${name}`;
    if (!NAME.test(full)) throw new Error(`not a metric name: ${full}`);
    lines.push(`# HELP ${full} ${help}`, `# TYPE ${full} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${labelValue(v)}"`)
        .join(',');
      lines.push(`${full}${l ? `{${l}}` : ''} ${sampleValue(value)}`);
    }
  };
  const b = (x: boolean) => (x ? 1 : 0);
  family('info', 'gauge', 'The running version (always 1).', [[{ version: s.version }, 1]]);
  family(
    'update_available',
    'gauge',
    '1 when the newest release on the channel is newer than the running version, even if a policy holds it back.',
    [[{}, b(s.updateAvailable)]],
  );
  family(
    'update_pending_restart',
    'gauge',
    '1 when a newer version is installed and waits for a restart or a maintenance window.',
    [[{}, b(s.pendingRestart)]],
  );
  family(
    'update_checks_total',
    'counter',
    'Forge checks by the daemon, by result.',
    CHECK_RESULTS.map((r) => [{ result: r }, s.counters.checks[r] ?? 0]),
  );
  // Always present (0 before the first check), so `time() - …` alerts fire for a daemon that never checked.
  family(
    'update_last_check_timestamp_seconds',
    'gauge',
    'When the daemon last asked the forge (Unix time; 0 before the first check).',
    [[{}, s.lastCheckAt === null ? 0 : s.lastCheckAt / 1000]],
  );
  family('update_consecutive_failures', 'gauge', 'Checks failed in a row.', [[{}, s.consecutiveFailures]]);
  family(
    'update_installs_total',
    'counter',
    'Installs made by the daemon (auto mode), by result.',
    INSTALL_RESULTS.map((r) => [{ result: r }, s.counters.installs[r] ?? 0]),
  );
  family('rollbacks_total', 'counter', 'Rollbacks to the previous version (by the launcher or by hand).', [
    [{}, s.rollbacks],
  ]);
  family('guard_circuit_open', 'gauge', '1 when the restart guard circuit is open.', [
    [{}, b(s.circuitOpen)],
  ]);
  family('guard_paused', 'gauge', '1 when updates are paused.', [[{}, b(s.paused)]]);
  family('restarts_in_window', 'gauge', 'Self-restarts within restart.window.', [[{}, s.restartsInWindow]]);
  return `${lines.join('\n')}\n`;
}

/** Rollbacks recorded in the audit log's text (every one writes an update.rolled-back line). */
export function countRollbacks(auditText: string | undefined): number {
  if (!auditText) return 0;
  let n = 0;
  for (const line of auditText.split('\n')) {
    if (!line.includes('"update.rolled-back"')) continue;
    try {
      if ((JSON.parse(line) as { event?: unknown }).event === 'update.rolled-back') n++;
    } catch {
      // a torn line
    }
  }
  return n;
}
