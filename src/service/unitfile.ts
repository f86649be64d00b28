// Reading an installed unit or plist back into the few facts `heph doctor` judges: the restart
// policy, the command line, the environment and token files the service will really get.
import { parse as parsePlist } from 'plist';
import { readStamp, type StampInfo } from './render.js';
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
  stamp: StampInfo | null;
  /** The `heph-config sha256=…` digest of the config the unit was rendered with, or null. */
  configDigest: string | null;
}

/** The config digest comment every generated unit and plist carries (render.ts writes it). */
export function readConfigDigest(text: string): string | null {
  return /heph-config sha256=([0-9a-f]+)/.exec(text)?.[1] ?? null;
}

/**
 * Splits a systemd value into words, undoing the quoting and the %% doubling; `$$` is undone
 * only for command lines (ExecStart= expands variables, Environment= does not).
 */
export function splitSystemdWords(value: string, command = true): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i >= value.length) break;
    let word = '';
    const quote = value[i] === '"' || value[i] === "'" ? value[i] : null;
    if (quote) i++;
    for (; i < value.length; i++) {
      const c = value[i]!;
      if (quote ? c === quote : c === ' ' || c === '\t') {
        if (quote) i++;
        break;
      }
      if (c === '\\' && i + 1 < value.length) {
        i++;
        word += value[i];
        continue;
      }
      word += c;
    }
    const unspecified = word.replace(/%%/g, '%');
    words.push(command ? unspecified.replace(/\$\$/g, '$') : unspecified);
  }
  return words;
}

/** `[Section]` → key → every value in order (systemd keys may repeat). */
export function parseUnitSections(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      out[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const values = out[section] ?? {};
    out[section] = values;
    values[key] = [...(values[key] ?? []), line.slice(eq + 1).trim()];
  }
  return out;
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
  const environment: Record<string, string> = {};
  for (const line of service.Environment ?? []) {
    for (const word of splitSystemdWords(line, false)) {
      const eq = word.indexOf('=');
      if (eq > 0) environment[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  const exec = last('ExecStart');
  return {
    manager: 'systemd',
    path,
    restart: last('Restart') ?? 'no', // systemd's default
    execStart: exec ? splitSystemdWords(exec.replace(/^[-@:+!]+/, '')) : [],
    environment,
    environmentFiles: (service.EnvironmentFile ?? []).map((f) => f.replace(/^-/, '').replace(/%%/g, '%')),
    runAs: last('User'),
    stamp: readStamp(text),
    configDigest: readConfigDigest(text),
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
  };
}
