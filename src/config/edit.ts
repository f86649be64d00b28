// `heph config set`: change one key without losing anything else. The new text is produced by
// editing the one line in place (comments and layout survive), re-parsed, checked to mean
// exactly "the old table with this key changed", validated as a whole, and only then written
// atomically. Anything that fails leaves the file byte-identical.
import { statSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { HEPH_NAMES } from '../app/identity.js';
import { HephError } from '../errors.js';
import { symlinkTarget, writeFileAtomic } from '../platform/fs.js';
import type { Env } from '../platform/paths.js';
import {
  type ConfigApp,
  envOverrides,
  mergeTables,
  parseTomlText,
  readConfigText,
  suggestKey,
  type TomlTable,
  validateTable,
  withAppDefaults,
} from './load.js';
import { type Config, DURATION_KEYS, KNOWN_KEYS } from './schema.js';

/** Interprets a command-line value for `key`: booleans, numbers, lists, else a string. */
export function parseCliValue(key: string, text: string): unknown {
  if (DURATION_KEYS.has(key)) return text;
  if (key === 'install.public_keys') {
    if (text.trim().startsWith('[')) return (parseToml(`v = ${text}`) as { v: unknown }).v;
    return text === '' ? [] : text.split(',').map((s) => s.trim());
  }
  if (key === 'update.windows') {
    // Days may hold commas (Sat,Sun), so several windows are separated by semicolons.
    if (text.trim().startsWith('[')) return (parseToml(`v = ${text}`) as { v: unknown }).v;
    return text.trim() === '' ? [] : text.split(';').map((s) => s.trim());
  }
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

function tomlValue(value: unknown): string {
  // smol-toml renders one key; take the right-hand side.
  return stringifyToml({ v: value }).replace(/^v = /, '').trim();
}

/** `table` with section.key = value; a dotted section (`install.attestation`) is a nested table. */
function setInTable(table: TomlTable, section: string, key: string, value: unknown): TomlTable {
  const [head, ...rest] = section.split('.') as [string, ...string[]];
  const prev = table[head];
  const inner = typeof prev === 'object' && prev !== null ? (prev as TomlTable) : {};
  return {
    ...table,
    [head]: rest.length ? setInTable(inner, rest.join('.'), key, value) : { ...inner, [key]: value },
  };
}

/** Edits `text` so that section.key = value, keeping every other line. */
export function editTomlText(text: string, section: string, key: string, value: unknown): string {
  const lines = text.split('\n');
  const rendered = `${key} = ${tomlValue(value)}`;
  const header = new RegExp(`^\\s*\\[\\s*${section.replaceAll('.', '\\s*\\.\\s*')}\\s*\\]\\s*(#.*)?$`);
  const anyHeader = /^\s*\[/;
  const keyLine = new RegExp(`^(\\s*)${key}\\s*=`);
  const start = lines.findIndex((l) => header.test(l));
  if (start === -1) {
    const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    return `${text}${sep}[${section}]\n${rendered}\n`;
  }
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (anyHeader.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  for (let i = start + 1; i < end; i++) {
    const m = keyLine.exec(lines[i]!);
    if (m) {
      const comment = /\s+#[^"']*$/.exec(lines[i]!)?.[0] ?? '';
      lines[i] = `${m[1]}${rendered}${comment}`;
      return lines.join('\n');
    }
  }
  let insertAt = end;
  while (insertAt > start + 1 && lines[insertAt - 1]!.trim() === '') insertAt--;
  lines.splice(insertAt, 0, rendered);
  return lines.join('\n');
}

export function checkKnownKey(key: string): [string, string] {
  if (!KNOWN_KEYS.includes(key)) {
    const s = suggestKey(key);
    throw new HephError('E_CONFIG', `unknown key "${key}"`, {
      hint: s ? `did you mean "${s}"?` : `keys look like update.mode; see docs/configuration.md`,
      details: { key },
    });
  }
  const dot = key.lastIndexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** The existing file's mode and, when root writes it, its owner; null for a new file. */
function keptOwnership(file: string): { mode: number; owner?: { uid: number; gid: number } } | null {
  try {
    const st = statSync(file);
    const mode = st.mode & 0o777 & ~0o022; // never more open to others than it was, never writable by them
    return { mode, owner: process.getuid?.() === 0 ? { uid: st.uid, gid: st.gid } : undefined };
  } catch {
    return null;
  }
}

export interface SetOptions {
  /** The environment whose overrides apply (as loadConfig's); default none. */
  env?: Env;
  /**
   * Further checks of the config as it would load (environment overrides included), run before
   * anything is written: `heph config set` builds the forge client there, as a daemon would.
   */
  verify?: (config: Config) => void;
}

/** Sets key = value in the config file, validating the whole result before writing. */
export function setConfigValue(
  file: string,
  key: string,
  valueText: string,
  app: ConfigApp = HEPH_NAMES,
  opts: SetOptions = {},
): { changed: boolean } {
  const [section, name] = checkKnownKey(key);
  const text = readConfigText(file) ?? '';
  const table = text === '' ? {} : parseTomlText(text, file);
  const value = parseCliValue(key, valueText);
  const wanted = setInTable(table, section, name, value);
  validateTable(withAppDefaults(wanted, app), file); // throws E_CONFIG naming the key; nothing written yet
  if (opts.verify) {
    const over = envOverrides(opts.env ?? {}, app.envPrefix);
    opts.verify(validateTable(mergeTables(withAppDefaults(wanted, app), over.table), file, over.used));
  }

  let next = editTomlText(text, section, name, value);
  let reparsed: TomlTable | undefined;
  try {
    reparsed = parseToml(next) as TomlTable;
  } catch {
    reparsed = undefined;
  }
  if (
    !reparsed ||
    !isDeepStrictEqual(JSON.parse(JSON.stringify(reparsed)), JSON.parse(JSON.stringify(wanted)))
  ) {
    // An unusual layout (inline tables, dotted keys): fall back to a clean rewrite, which keeps
    // every key and value but not the comments.
    next = stringifyToml(wanted);
  }
  if (next === text) return { changed: false };
  // Through a symlink (a config kept in a dotfiles repository) to its target: the link stays.
  // root editing a system install's config keeps its owner, group and mode: the service's user
  // reads it through its group (docs/operations.md, "A system service")
  const target = symlinkTarget(file);
  const kept = keptOwnership(target);
  writeFileAtomic(target, next.endsWith('\n') ? next : `${next}\n`, kept?.mode ?? 0o600, kept?.owner);
  return { changed: true };
}
