// `heph config path|get|set|validate`.
import { loadConfig } from '../config/load.js';
import { checkKnownKey, setConfigValue } from '../config/edit.js';
import { DURATION_KEYS, KNOWN_KEYS } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import { type CliContext, printJson, println } from './context.js';

export async function configPath(ctx: CliContext): Promise<number> {
  const file = ctx.deps.paths.config;
  if (ctx.json) printJson(ctx, { path: file });
  else println(ctx, file);
  return 0;
}

/** The effective value of a key (file, then environment, then default), in config-file form. */
function effectiveValue(ctx: CliContext, key: string): unknown {
  const { config } = loadConfig(ctx.deps.paths.config, ctx.deps.env, ctx.deps.app);
  const [section, name] = key.split('.') as [keyof typeof config, string];
  const value = (config[section] as Record<string, unknown>)[name];
  if (DURATION_KEYS.has(key) && typeof value === 'number') return formatDuration(value);
  return value ?? null;
}

function bare(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join('\n');
  return String(value);
}

export async function configGet(ctx: CliContext, key: string | undefined): Promise<number> {
  if (key === undefined) {
    const all = Object.fromEntries(KNOWN_KEYS.map((k) => [k, effectiveValue(ctx, k)]));
    if (ctx.json) printJson(ctx, all);
    else for (const [k, v] of Object.entries(all)) println(ctx, `${k} = ${JSON.stringify(v ?? null)}`);
    return 0;
  }
  checkKnownKey(key);
  const value = effectiveValue(ctx, key);
  if (ctx.json) printJson(ctx, { key, value });
  else println(ctx, bare(value));
  return 0;
}

export async function configSet(ctx: CliContext, key: string, value: string): Promise<number> {
  const file = ctx.deps.paths.config;
  const { changed } = setConfigValue(file, key, value, ctx.deps.app);
  const now = effectiveValue(ctx, key);
  if (ctx.json) printJson(ctx, { key, value: now, changed, file });
  else
    println(
      ctx,
      changed
        ? `${key} = ${JSON.stringify(now)} (written to ${file})`
        : `${key} is already ${JSON.stringify(now)}`,
    );
  return 0;
}

export async function configValidate(ctx: CliContext): Promise<number> {
  const loaded = loadConfig(ctx.deps.paths.config, ctx.deps.env, ctx.deps.app);
  if (ctx.json) printJson(ctx, { valid: true, file: loaded.file, exists: loaded.exists });
  else
    println(
      ctx,
      loaded.exists ? `${loaded.file}: valid` : `${loaded.file}: not present (all defaults apply)`,
    );
  return 0;
}
