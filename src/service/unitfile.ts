// Reading an installed unit or plist back into the few facts `heph doctor` judges: the restart
// policy, the command line, the environment and token files the service will really get.
import { parse as parsePlist } from 'plist';
import { readStamp, type StampInfo } from './render.js';
import { parseUnitSections, splitSystemdWords, unitEnvironment } from './unit-syntax.js';

export { parseUnitSections, splitSystemdWords, unitEnvironment };
import type { ManagerKind } from './spec.js';

export interface InstalledUnit {
  manager: ManagerKind;
  path: string;
  /** systemd Restart= value, or "keepalive"/"no-keepalive" for launchd. */
  restart: string | null;
  /** The argv the manager starts: node, then the launcher. */
  execStart: string[];
  /** Inline environment (Environment= lines, EnvironmentVariables). */
  environment: Record<string, string>;
  /** EnvironmentFile= paths; a leading "-" (optional) is removed. */
  environmentFiles: string[];
  /** User= / UserName, when the unit names one. */
  runAs: string | null;
  /** systemd: the unit requires hephd.socket (installed with --socket). */
  socket?: boolean;
  stamp: StampInfo | null;
  /** The `heph-config sha256=…` digest of the config the unit was rendered with, or null. */
  configDigest: string | null;
  /**
   * How long the manager waits for a stop before SIGKILL, in seconds (systemd TimeoutStopSec,
   * launchd ExitTimeOut); Infinity for none; null when unset or not understood.
   */
  stopTimeoutSec?: number | null;
}

/** systemd's time span as seconds, for the forms units use (`45s`, `2min 5s`, `90`, `infinity`); else null. */
export function parseTimeSpan(text: string | null): number | null {
  if (text === null) return null;
  const t = text.trim();
  if (t === 'infinity') return Number.POSITIVE_INFINITY;
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600, ms: 0.001 };
  let total = 0;
  const parts = t.split(/\s+/);
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(p);
    if (!m || units[m[2]!] === undefined) return null;
    total += Number(m[1]) * units[m[2]!]!;
  }
  return parts.length > 0 && t !== '' ? total : null;
}

/** The config digest comment every generated unit and plist carries (render.ts writes it). */
export function readConfigDigest(text: string): string | null {
  return /heph-config sha256=([0-9a-f]+)/.exec(text)?.[1] ?? null;
}

/** KEY=VALUE lines of an EnvironmentFile, with systemd's double-quote unescaping. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

export function readSystemdUnit(path: string, text: string): InstalledUnit {
  const s = parseUnitSections(text);
  const service = s.Service ?? {};
  const last = (k: string) => service[k]?.at(-1) ?? null;
  const environment = unitEnvironment(s);
  const exec = last('ExecStart');
  return {
    manager: 'systemd',
    path,
    restart: last('Restart') ?? 'no', // systemd's default
    execStart: exec ? splitSystemdWords(exec.replace(/^[-@:+!]+/, '')) : [],
    environment,
    environmentFiles: (service.EnvironmentFile ?? []).map((f) => f.replace(/^-/, '').replace(/%%/g, '%')),
    runAs: last('User'),
    // Requires=<daemon>.socket: installed with --socket
    socket: (s.Unit?.Requires ?? []).some((r) => r.split(/\s+/).some((u) => u.endsWith('.socket'))),
    stamp: readStamp(text),
    configDigest: readConfigDigest(text),
    stopTimeoutSec: parseTimeSpan(last('TimeoutStopSec') ?? last('TimeoutSec')),
  };
}

export function readPlistUnit(path: string, text: string): InstalledUnit {
  const job = parsePlist(text) as Record<string, unknown>;
  const keepAlive = job.KeepAlive;
  const args = Array.isArray(job.ProgramArguments) ? job.ProgramArguments.map(String) : [];
  const env = (job.EnvironmentVariables ?? {}) as Record<string, unknown>;
  return {
    manager: 'launchd',
    path,
    restart: keepAlive === true ? 'always' : keepAlive === undefined ? 'no' : 'conditional',
    execStart: args,
    environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    environmentFiles: [],
    runAs: typeof job.UserName === 'string' ? job.UserName : null,
    stamp: readStamp(text),
    configDigest: readConfigDigest(text),
    stopTimeoutSec: typeof job.ExitTimeOut === 'number' ? job.ExitTimeOut : null,
  };
}
