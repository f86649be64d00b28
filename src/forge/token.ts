// Where the forge token comes from: HEPH_FORGE_TOKEN, else the file named by forge.token_file.
// The token is registered as a secret at once, so no log line or error can ever show it.
import { type AppNames, envName, HEPH_NAMES } from '../app/identity.js';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { HephError } from '../errors.js';
import { registerSecret } from '../platform/logger.js';
import type { Env } from '../platform/paths.js';

/** A token file larger than this is not a token (a key pair or a log pasted by mistake). */
export const MAX_TOKEN_FILE_BYTES = 16 * 1024;

/**
 * What a token may contain: visible ASCII without spaces. Forge tokens are all like that, and
 * anything else (a second line, a comment, a BOM) cannot go into an HTTP header — undici would
 * refuse it with an error that looks like a network failure.
 */
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

function checkShape(token: string, source: string, details: Record<string, unknown>): void {
  if (TOKEN_SHAPE.test(token)) return;
  throw new HephError(
    'E_CONFIG',
    `${source} does not hold a single token: it has spaces, line breaks or non-ASCII characters`,
    {
      hint: 'keep only the token in it, on one line (no comments)',
      details,
    },
  );
}

/** `~/x` → the home folder's x; relative paths are taken from the working directory. */
function expandPath(file: string, env: Env): string {
  if (file === '~' || file.startsWith('~/')) return join(env.HOME ?? homedir(), file.slice(1));
  return isAbsolute(file) ? file : resolve(file);
}

/**
 * The token to send to the forge, or undefined when none is configured. HEPH_FORGE_TOKEN beats
 * forge.token_file (so a one-off command can use another token). An unreadable or empty file is
 * a configuration error naming the file, never its content.
 */
export function readToken(config: Config, env: Env, app: AppNames = HEPH_NAMES): string | undefined {
  const variable = envName(app, 'FORGE_TOKEN');
  const fromEnv = env[variable]?.trim();
  if (fromEnv) {
    registerSecret(fromEnv);
    checkShape(fromEnv, variable, { key: variable });
    return fromEnv;
  }
  const configured = config.forge.token_file.trim();
  if (configured === '') return undefined;
  const file = expandPath(configured, env);
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_TOKEN_FILE_BYTES) {
      throw new HephError('E_CONFIG', `forge.token_file: ${file} is too large to be a token`, {
        hint: 'put only the token in that file',
        details: { key: 'forge.token_file', file },
      });
    }
    text = bytes.toString('utf8').trim();
  } catch (e) {
    if (e instanceof HephError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HephError('E_CONFIG', `forge.token_file: cannot read ${file} (${code})`, {
      hint: 'create the file with the token (mode 0600), or set forge.token_file = ""',
      details: { key: 'forge.token_file', file },
    });
  }
  if (text === '') {
    throw new HephError('E_CONFIG', `forge.token_file: ${file} is empty`, {
      hint: 'write the token into it, or set forge.token_file = ""',
      details: { key: 'forge.token_file', file },
    });
  }
  registerSecret(text);
  checkShape(text, `forge.token_file: ${file}`, { key: 'forge.token_file', file });
  return text;
}
