// state.json: what the daemon remembers across restarts (last check, failures, candidates it
// has already announced, the restart guard's history, a manual pause). Written atomically; a
// corrupt or foreign-shaped file is set aside (state.json.corrupt-<time>), reported and replaced,
// never fatal (src/platform/state-file.ts). Times from the future are clamped to now on read.
import type { Logger } from 'pino';
import { z } from 'zod';
import { writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';
import { readJsonState } from '../platform/state-file.js';
import { corruptReporter } from '../audit/corrupt.js';
import { clampToNow, resume } from './guard.js';
import { emptyCounters, type MetricCounters } from '../daemon/metrics.js';

export const STATE_VERSION = 1;

export interface GuardHistory {
  /** Epoch ms of each self-restart for an update, oldest first (trimmed to the window). */
  restarts: number[];
  /** Epoch ms at which the circuit opened, or null when closed. */
  circuitOpenedAt: number | null;
  paused: boolean;
  /** Epoch ms at which a timed pause ends; null = until resumed. */
  pausedUntil: number | null;
}

export interface DaemonState {
  v: number;
  lastCheckAt: string | null;
  /** "ok", "not-modified" or an error code such as "E_FORGE_UNREACHABLE". */
  lastResult: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  latest: string | null;
  candidate: string | null;
  /** Candidates already announced (update.available once per candidate, not per poll). */
  announced: string[];
  /** "version:reason" pairs already audited as update.blocked (once per candidate and reason). */
  blocked: string[];
  /** Set while a newer version is installed but the daemon could not restart itself. */
  pendingRestart: string | null;
  /** Installed by auto mode, waiting for a maintenance window to switch and restart into it. */
  deferred: DeferredUpdate | null;
  guard: GuardHistory;
  /** The metrics' counters (GET /v1/metrics), kept across restarts. */
  counters: MetricCounters;
}

export interface DeferredUpdate {
  version: string;
  /** In the store but not current yet (bundle); false: already switched (npm, command). */
  staged: boolean;
  installedAt: string;
}

export function emptyState(): DaemonState {
  return {
    v: STATE_VERSION,
    lastCheckAt: null,
    lastResult: null,
    lastError: null,
    consecutiveFailures: 0,
    latest: null,
    candidate: null,
    announced: [],
    blocked: [],
    pendingRestart: null,
    deferred: null,
    counters: emptyCounters(),
    guard: { restarts: [], circuitOpenedAt: null, paused: false, pausedUntil: null },
  };
}

/** An epoch-ms time: a finite number Date can hold. */
const epochMs = z.number().finite().min(0).max(8.64e15);
const text = z.string().nullable();

/**
 * The file's shape: a key an older heph did not write takes its default; a key of the wrong type
 * makes the whole file foreign (set aside). Keys a newer heph added are kept (passthrough), so a
 * rollback does not erase them.
 */
const stateSchema = z
  .object({
    lastCheckAt: z
      .string()
      .refine((t) => !Number.isNaN(Date.parse(t)), 'expected a date')
      .nullable()
      .default(null),
    lastResult: text.default(null),
    lastError: text.default(null),
    consecutiveFailures: z.number().int().min(0).default(0),
    latest: text.default(null),
    candidate: text.default(null),
    announced: z.array(z.string()).default([]),
    blocked: z.array(z.string()).default([]),
    pendingRestart: text.default(null),
    deferred: z
      .object({ version: z.string(), staged: z.boolean(), installedAt: z.string() })
      .nullable()
      .default(null),
    // Metrics counters: a hand-edited or foreign value counts afresh rather than set the file aside.
    counters: z
      .unknown()
      .optional()
      .transform((v) => countersOf(v)),
    guard: z
      .object({
        restarts: z.array(epochMs).default([]),
        circuitOpenedAt: epochMs.nullable().default(null),
        paused: z.boolean().default(false),
        pausedUntil: epochMs.nullable().default(null),
      })
      .passthrough()
      .prefault({}),
  })
  .passthrough();

function parseState(value: unknown): DaemonState | string {
  const r = stateSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return `${issue.path.join('.') || 'the document'}: ${issue.message}`;
  }
  return { ...(r.data as unknown as DaemonState), v: STATE_VERSION };
}

/** Times a clock that was ahead wrote (a check or a restart "in the future") are clamped to now. */
function clampState(s: DaemonState, now: number): DaemonState {
  const guard = clampToNow(s.guard, now);
  const last = s.lastCheckAt === null ? null : Date.parse(s.lastCheckAt);
  const lastCheckAt = last !== null && last > now ? new Date(now).toISOString() : s.lastCheckAt;
  return guard === s.guard && lastCheckAt === s.lastCheckAt ? s : { ...s, guard, lastCheckAt };
}

export interface ReadStateOptions {
  now?: number;
  /** Where a set-aside file is reported (the daemon's logger; absent: stderr). */
  logger?: Logger;
}

export function readState(paths: Paths, opts: ReadStateOptions = {}): DaemonState {
  const now = opts.now ?? Date.now();
  const s = readJsonState(paths.stateFile, parseState, {
    now,
    onSetAside: corruptReporter(paths.auditFile, opts.logger),
  });
  return s === undefined ? emptyState() : clampState(s, now);
}

/** Counters as read back: anything but a count (a hand-edited or foreign file) starts at 0. */
function countersOf(value: unknown): MetricCounters {
  const out = emptyCounters();
  if (typeof value !== 'object' || value === null) return out;
  for (const group of ['checks', 'installs'] as const) {
    const g = (value as Record<string, unknown>)[group];
    if (typeof g !== 'object' || g === null) continue;
    for (const [k, n] of Object.entries(g)) {
      if (Number.isSafeInteger(n) && (n as number) >= 0)
        (out[group] as Record<string, number>)[k] = n as number;
    }
  }
  return out;
}

export function writeState(paths: Paths, state: DaemonState): void {
  writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** Read-modify-write in one step (the daemon is the only long-lived writer). */
export function updateState(
  paths: Paths,
  change: (s: DaemonState) => void,
  opts: ReadStateOptions = {},
): DaemonState {
  const s = readState(paths, opts);
  change(s);
  writeState(paths, s);
  return s;
}

/**
 * `heph update resume`, by the CLI or through the daemon: every guard block is cleared, whatever
 * its timestamps (guard.ts resume), and "already audited as blocked" starts afresh so a new block
 * after this is news again.
 */
export function resumeState(s: DaemonState): void {
  s.guard = resume(s.guard);
  s.blocked = [];
}
