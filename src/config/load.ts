// Reading the configuration: the app's defaults (defineApp's forge), the TOML file (absent = all
// defaults), HEPH_<SECTION>_<KEY> environment overrides (ACME_… for an app named acme), then validation. Every failure names the file, the key and what was
// expected, as a HephError E_CONFIG (exit 78).
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { type AppIdentity, type AppNames, HEPH_NAMES } from '../app/identity.js';
import { HephError } from '../errors.js';
import { readCappedText } from '../platform/state-file.js';
import type { Env } from '../platform/paths.js';
import { type Config, configSchema, KNOWN_KEYS } from './schema.js';

export type TomlTable = Record<string, unknown>;

export interface LoadedConfig {
  config: Config;
  /** The config file's path, whether or not it exists. */
  file: string;
  exists: boolean;
  /** The file's own table (before defaults and env), for `config get/set`. */
  raw: TomlTable;
  /** Environment variables that overrode file values, by key (`update.mode` → `HEPH_UPDATE_MODE`). */
  envOverrides: Record<string, string>;
}

export function parseTomlText(text: string, file: string): TomlTable {
  try {
    return parseToml(text) as TomlTable;
  } catch (e) {
    const where = e instanceof TomlError ? ` (line ${e.line}, column ${e.column})` : '';
    const first = (e as Error).message.split('\n')[0];
    throw new HephError('E_CONFIG', `${file}${where}: not valid TOML: ${first}`, {
      hint: 'fix the syntax, then run `heph config validate`',
      details: { file },
    });
  }
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function suggestKey(key: string, candidates: readonly string[] = KNOWN_KEYS): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  const leaf = key.split('.').pop() ?? key;
  for (const c of candidates) {
    const d = Math.min(
      distance(key, c),
      distance(leaf, c.split('.').pop() ?? c) + (key.includes('.') ? 1 : 0),
    );
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** A value as a message shows it: its kind, and the value itself when short (never a secret: config values only). */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value === null || typeof value === 'object') return 'a table';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return typeof value === 'number' ? shown : `${typeof value} ${shown}`;
}

/** Turns the first zod issue into a message naming the file and the key. */
export function configErrorFromZod(
  error: z.ZodError,
  file: string,
  envOverrides: Record<string, string> = {},
): HephError {
  const issue = error.issues[0]!;
  const key = issue.path.join('.');
  const source = envOverrides[key] ? `${envOverrides[key]} (environment)` : file;
  let message: string;
  let hint = 'fix the value, then run `heph config validate`';
  if (issue.code === 'unrecognized_keys') {
    const unknown = issue.keys[0] ?? '';
    const full = key ? `${key}.${unknown}` : unknown;
    const suggestion = suggestKey(full);
    message = `${source}: unknown key "${full}"`;
    hint = suggestion ? `did you mean "${suggestion}"?` : 'remove it; `heph config get` lists no such key';
  } else if (issue.code === 'invalid_type') {
    const expected = issue.expected === 'int' ? 'a whole number' : issue.expected;
    message = `${source}: ${key || 'config'}: expected ${expected}, got ${describeValue(issue.input)}`;
  } else if (issue.code === 'too_big' || issue.code === 'too_small') {
    const bound = issue.code === 'too_big' ? `at most ${issue.maximum}` : `at least ${issue.minimum}`;
    message = `${source}: ${key}: must be ${bound}, got ${describeValue(issue.input)}`;
  } else if (issue.code === 'invalid_value' && 'values' in issue) {
    message = `${source}: ${key}: expected one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  } else {
    message = `${source}: ${key || 'config'}: ${issue.message}`;
  }
  return new HephError('E_CONFIG', message, { hint, details: { file, key } });
}

const SECTIONS = ['update', 'forge', 'install', 'restart', 'notify', 'metrics'] as const;

/** What loading needs of the app: its variable prefix and the defaults defineApp gave it. */
export type ConfigApp = AppNames & Pick<Partial<AppIdentity>, 'defaults'>;

/** HEPH_UPDATE_MODE=auto → update.mode = "auto"; values typed by the TOML rules. */
export function envOverrides(
  env: Env,
  prefix: string,
): {
  table: Record<string, Record<string, unknown>>;
  used: Record<string, string>;
} {
  const table: Record<string, Record<string, unknown>> = {};
  const used: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(`${prefix}_`)) continue;
    const rest = name.slice(prefix.length + 1).toLowerCase();
    const section = SECTIONS.find((s) => rest.startsWith(`${s}_`));
    if (!section) continue;
    const key = rest.slice(section.length + 1);
    if (!KNOWN_KEYS.includes(`${section}.${key}`)) continue; // HEPH_FORGE_TOKEN and friends
    let parsed: unknown = value;
    try {
      parsed = (parseToml(`v = ${value}`) as { v: unknown }).v;
    } catch {
      parsed = value; // a bare word such as auto: a string
    }
    table[section] ??= {};
    table[section][key] = parsed;
    used[`${section}.${key}`] = name;
  }
  return { table, used };
}

export function mergeTables(base: TomlTable, over: Record<string, Record<string, unknown>>): TomlTable {
  const out: TomlTable = { ...base };
  for (const [section, values] of Object.entries(over)) {
    const prev = out[section];
    out[section] = { ...(typeof prev === 'object' && prev !== null ? prev : {}), ...values };
  }
  return out;
}

/** Validates a TOML table (file contents merged with overrides) into a Config. */
export function validateTable(table: TomlTable, file: string, used: Record<string, string> = {}): Config {
  // reportInput: messages say what was found ("got string \"x\""), not "got nothing"
  const result = configSchema.safeParse(table, { reportInput: true });
  if (!result.success) throw configErrorFromZod(result.error, file, used);
  return result.data;
}

/** A config is a few hundred bytes; the cap keeps a symlink to /dev/zero or a huge file out of memory. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The file's text (at most MAX_CONFIG_BYTES, a regular file or a symlink to one); a path that
 * exists but cannot be read (a folder, a FIFO, a device, too large, no permission) is E_CONFIG.
 */
export function readConfigText(file: string): string | undefined {
  try {
    return readCappedText(file, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof HephError) {
      const why = e.message.startsWith(`${file} `) ? `it ${e.message.slice(file.length + 1)}` : e.message;
      throw new HephError('E_CONFIG', `${file}: cannot read the config file: ${why}`, {
        hint: 'make it a regular file (or a symlink to one) under 1 MiB, or point HEPH_CONFIG at one',
        details: { file },
        cause: e,
      });
    }
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HephError('E_CONFIG', `${file}: cannot read the config file (${code})`, {
      hint: 'make it a readable file, or point HEPH_CONFIG at one',
      details: { file },
      cause: e,
    });
  }
}

/** The app's defaults under the file's table: a key the file sets wins. */
export function withAppDefaults(raw: TomlTable, app: ConfigApp): TomlTable {
  const defaults = app.defaults;
  if (defaults === undefined) return raw;
  const out: TomlTable = { ...raw };
  for (const [section, values] of Object.entries(defaults)) {
    const own = raw[section];
    // A section that is not a table is the file's error to report, not ours to paper over.
    if (own === undefined) out[section] = { ...values };
    else if (typeof own === 'object' && own !== null && !Array.isArray(own))
      out[section] = { ...values, ...own };
  }
  return out;
}

export function loadConfig(file: string, env: Env, app: ConfigApp = HEPH_NAMES): LoadedConfig {
  const text = readConfigText(file);
  const raw = text === undefined ? {} : parseTomlText(text, file);
  const { table, used } = envOverrides(env, app.envPrefix);
  const config = validateTable(mergeTables(withAppDefaults(raw, app), table), file, used);
  return { config, file, exists: text !== undefined, raw, envOverrides: used };
}
