// The audit trail: one JSON line per decision in audit.jsonl (and in the log). `heph update
// history` reads it back newest first. Appends are single write() calls of one line, so
// concurrent writers (daemon, CLI, launcher) never interleave within a line.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { type AppNames, HEPH_NAMES, renameForApp } from '../app/identity.js';
import { readTextIfExists } from '../platform/fs.js';
import { redactText } from '../platform/logger.js';

export type AuditEventName =
  | 'update.checked'
  | 'update.available'
  | 'update.installing'
  | 'update.installed'
  | 'update.restarting'
  | 'update.blocked'
  | 'update.failed'
  | 'update.rolled-back'
  | 'update.paused'
  | 'update.resumed'
  | 'update.quarantined'
  | 'state.corrupt'
  | 'update.deferred'
  | 'config.reloaded'
  | 'config.refused'
  | 'notify.failed';

export interface AuditEvent {
  time: string;
  event: AuditEventName;
  /** The version the event is about (the candidate, or the running version). */
  version: string | null;
  reason?: string;
  error?: string;
  [extra: string]: unknown;
}

/**
 * Appends one event and logs it. `app`: the app whose log this is; the event's messages (a
 * blocked update's `message`, an `error`) are written in heph's names and recorded in the app's
 * (renameForApp). null only for events that name no command, daemon or variable (state.corrupt).
 */
export function appendAudit(
  file: string,
  event: Omit<AuditEvent, 'time'> & { time?: string },
  logger: Logger | undefined,
  app: AppNames | null,
): AuditEvent {
  const full = { time: event.time ?? new Date().toISOString(), ...event } as AuditEvent;
  if (app) {
    for (const [key, value] of Object.entries(full)) {
      // Redacted first: a secret that happened to hold a heph name would escape redaction once renamed.
      if (typeof value === 'string') full[key] = renameForApp(redactText(value), app);
    }
  }
  const line = `${redactText(JSON.stringify(full))}\n`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    appendFileSync(file, line, { mode: 0o600 });
  } catch (e) {
    // A full disk must not turn a decision already taken (installed, restarting) into a failure
    // half-way: the event still reaches the log (the journal), and the operator is told why the
    // audit file lacks it.
    const why = `cannot append to ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
    if (logger) logger.error({ audit: full, file }, why);
    else process.stderr.write(`${(app ?? HEPH_NAMES).name}: warning: ${why}; not recorded there: ${line}`);
    return full;
  }
  logger?.info({ audit: full }, full.event);
  return full;
}

/** Every parseable event, newest first. A torn or foreign line is skipped, not fatal. */
export function readAudit(file: string, limit = Number.POSITIVE_INFINITY): AuditEvent[] {
  const text = readTextIfExists(file);
  if (!text) return [];
  const out: AuditEvent[] = [];
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      const ev = JSON.parse(line) as AuditEvent;
      if (typeof ev.event === 'string' && typeof ev.time === 'string') out.push(ev);
    } catch {
      // a line torn by a crash mid-append: skip it
    }
  }
  return out;
}
