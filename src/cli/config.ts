// `heph config path|get|set|validate`.
import { loadConfig } from '../config/load.js';
import { checkKnownKey, setConfigValue } from '../config/edit.js';
import { type Config, DURATION_KEYS, KNOWN_KEYS } from '../config/schema.js';
import { checkForgeConfig } from '../forge/index.js';
import { formatDuration } from '../config/duration.js';
import { HephError } from '../errors.js';
import { type CliContext, note, printJson, println } from './context.js';

export async function configPath(ctx: CliContext): Promise<number> {
  const file = ctx.deps.paths.config;
  if (ctx.json) printJson(ctx, { path: file });
  else println(ctx, file);
  return 0;
}

/** The effective value of a key (file, then environment, then default), in config-file form. */
function effectiveValue(ctx: CliContext, key: string): unknown {
  const { config } = loadConfig(ctx.deps.paths.config, ctx.deps.env, ctx.deps.app);
  let value: unknown = config;
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
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

/** How long `config set` waits for a running daemon to apply the change. */
const RELOAD_TIMEOUT_MS = 30_000;

type DaemonReload =
  | { running: false }
  | { running: true; reloaded: true; changed: string[] }
  | { running: true; reloaded: false; pending: boolean; error: string; hint: string | null };

/**
 * Tells a running daemon to re-read the config (POST /v1/config/reload); no daemon is fine. Only
 * an answer can refuse: no answer in time (a long install holds the reload until it ends) or a
 * connection lost (the daemon restarting) leaves the reload pending, not refused.
 */
async function tellDaemon(ctx: CliContext): Promise<DaemonReload> {
  const { callDaemon } = await import('../control/client.js');
  try {
    const r = (await callDaemon(ctx.deps.paths, 'POST', '/v1/config/reload', undefined, {
      timeoutMs: RELOAD_TIMEOUT_MS,
    })) as { changed?: string[] };
    return { running: true, reloaded: true, changed: r.changed ?? [] };
  } catch (e) {
    if (e instanceof HephError && e.code === 'E_NOT_RUNNING') return { running: false };
    const answered = e instanceof HephError && e.details.status !== undefined;
    return {
      running: true,
      reloaded: false,
      pending: !answered,
      error: e instanceof Error ? e.message : String(e),
      hint: e instanceof HephError ? (e.hint ?? null) : null,
    };
  }
}

/**
 * What a daemon builds from a config beyond validating it (src/daemon/lifecycle.ts forgeEffects):
 * the forge client (repo, URL, token file), unless update.mode is off. A config that passes
 * `config validate` or `config set` is one a daemon starts or reloads with.
 */
function checkBuildable(ctx: CliContext, config: Config): void {
  if (config.update.mode === 'off') return;
  try {
    checkForgeConfig(config, ctx.deps);
  } catch (e) {
    // A system service reads forge.token_file as its own user, with its own HOME (and any token
    // in its environment file): root at this prompt cannot see that file as the service will.
    // Doctor checks it as the service user (docs/operations.md "A system service").
    if (ctx.scope?.system && e instanceof HephError && e.details.key === 'forge.token_file') {
      note(
        ctx,
        `warning: ${e.message}; not refused here, the service reads it as its own user: run \`heph doctor\` once it runs`,
      );
      return;
    }
    throw e;
  }
}

export async function configSet(ctx: CliContext, key: string, value: string): Promise<number> {
  const file = ctx.deps.paths.config;
  const { changed } = setConfigValue(file, key, value, ctx.deps.app, {
    env: ctx.deps.env,
    verify: (config) => checkBuildable(ctx, config),
  });
  const now = effectiveValue(ctx, key);
  const daemon = changed ? await tellDaemon(ctx) : null;
  const { name, daemon: daemonName } = ctx.deps.app;
  if (daemon?.running && !daemon.reloaded && !daemon.pending) {
    throw new HephError(
      'E_CONFIG',
      `${file} was written, but the running ${daemonName} refused it: ${daemon.error}`,
      {
        hint: daemon.hint ?? `${daemonName} keeps its old config; \`${name} daemon logs\` says why`,
        details: { file, key },
      },
    );
  }
  if (ctx.json) printJson(ctx, { key, value: now, changed, file, daemon });
  else {
    println(
      ctx,
      changed
        ? `${key} = ${JSON.stringify(now)} (written to ${file})`
        : `${key} is already ${JSON.stringify(now)}`,
    );
    if (daemon?.running && daemon.reloaded)
      println(ctx, `${daemonName} reloaded the config: the change is in force`);
  }
  if (daemon?.running && !daemon.reloaded && daemon.pending) {
    // Written and valid (the checks above are the daemon's): the daemon applies it when it gets
    // to the request, or reads it at its next start.
    note(
      ctx,
      `${daemonName} has not confirmed the reload yet (${daemon.error}); it applies the change once it is done with what it is doing (an install finishes first)\n` +
        `  check \`${name} status --json\`: its config.loadedAt and config.digest change once it has`,
    );
  }
  return 0;
}

export async function configValidate(ctx: CliContext): Promise<number> {
  const loaded = loadConfig(ctx.deps.paths.config, ctx.deps.env, ctx.deps.app);
  checkBuildable(ctx, loaded.config);
  if (ctx.json) printJson(ctx, { valid: true, file: loaded.file, exists: loaded.exists });
  else
    println(
      ctx,
      loaded.exists ? `${loaded.file}: valid` : `${loaded.file}: not present (all defaults apply)`,
    );
  return 0;
}
