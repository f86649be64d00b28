// The one way the rest of heph gets a forge client: reads forge.* from the config, checks what
// each kind needs, attaches the token in the kind's own header and the ETag cache in the state folder.
import { join } from 'node:path';
import { type Config, DEFAULT_FORGE_URL, type ForgeKind, repoShapeProblem } from '../config/schema.js';
import { HephError } from '../errors.js';
import type { Deps } from '../platform/deps.js';
import { HTTP_CACHE_FILE, HttpCache } from './cache.js';
import { GiteaClient } from './gitea.js';
import { GithubClient } from './github.js';
import { GitlabClient } from './gitlab.js';
import { type Deadlines, ForgeHttp, userAgent } from './http.js';
import type { ClientParts } from './list.js';
import { indexUrlOf, StaticClient } from './static.js';
import { readToken } from './token.js';
import type { ForgeClient } from './types.js';

export type { ForgeClient, Release, ReleaseAsset, ReleaseList } from './types.js';

/** How each kind carries the token (FORGES.md): never in a query string, never to another origin. */
export function credentialHeaders(kind: ForgeKind, token: string | undefined): Record<string, string> {
  if (!token) return {};
  if (kind === 'gitlab') return { 'private-token': token };
  if (kind === 'gitea' || kind === 'forgejo') return { authorization: `token ${token}` };
  return { authorization: `Bearer ${token}` };
}

/** Suffixes users paste with the instance URL; heph adds them itself. */
const API_SUFFIX: Partial<Record<ForgeKind, string>> = {
  gitea: '/api/v1',
  forgejo: '/api/v1',
  gitlab: '/api/v4',
};

function configError(key: string, message: string, hint: string): HephError {
  return new HephError('E_CONFIG', `forge.${key}: ${message}`, { hint, details: { key: `forge.${key}` } });
}

/** The API base for the kind: forge.url (or GitHub's default) without a trailing slash or API suffix. */
export function apiBase(config: Config): string {
  const { kind } = config.forge;
  const url = config.forge.url || DEFAULT_FORGE_URL[kind] || '';
  if (url === '') {
    const example = kind === 'static' ? 'https://releases.example.com/heph/' : `https://${kind}.example.com`;
    throw configError('url', `required for kind = "${kind}"`, `set forge.url, e.g. "${example}"`);
  }
  let base = url.replace(/\/+$/, '');
  const suffix = API_SUFFIX[kind];
  if (suffix && base.endsWith(suffix)) base = base.slice(0, -suffix.length);
  return base;
}

/** The runtime guard for a config that skipped validation of the repo (mode "off" allows none). */
function checkRepo(config: Config, file: string): void {
  const { kind, repo } = config.forge;
  const shape = repoShapeProblem(kind, repo);
  if (shape !== null) {
    throw configError(
      'repo',
      `expected ${shape}, got "${repo}" (in ${file})`,
      `set forge.repo = "${shape.split(' ')[0]}"`,
    );
  }
}

export interface ForgeClientOptions {
  /** Overall deadlines (http.ts); the defaults unless a test needs to see one pass quickly. */
  deadlines?: Partial<Deadlines>;
}

/** What a client is built from, checked: the repo, the API base, its origin and the token. */
function forgeSettings(config: Config, deps: Pick<Deps, 'paths' | 'env' | 'app'>) {
  const { kind } = config.forge;
  checkRepo(config, deps.paths.config);
  const base = apiBase(config);
  const token = readToken(config, deps.env, deps.app);
  const origin = base.startsWith('file:') ? '' : new URL(kind === 'static' ? indexUrlOf(base) : base).origin;
  return { base, token, origin };
}

/**
 * Throws what createForgeClient would throw for this config (repo, URL, token), touching nothing
 * on disk: `config validate` and `config set` use it, and must not read or set aside the
 * daemon's state (its ETag cache) on the way.
 */
export function checkForgeConfig(config: Config, deps: Pick<Deps, 'paths' | 'env' | 'app'>): void {
  forgeSettings(config, deps);
}

/** A client for config.forge; the ETag cache lives at state/http-cache.json. */
export function createForgeClient(config: Config, deps: Deps, opts: ForgeClientOptions = {}): ForgeClient {
  const { kind, repo, tag_prefix: tagPrefix } = config.forge;
  const { base, token, origin } = forgeSettings(config, deps);
  const http = new ForgeHttp({
    forge: kind,
    env: deps.env,
    clock: deps.clock,
    credentials: credentialHeaders(kind, token),
    credentialOrigin: origin,
    userAgent: userAgent(deps.app),
    deadlines: opts.deadlines,
  });
  const parts: ClientParts = {
    kind,
    repo,
    http,
    cache: new HttpCache(join(deps.paths.state, HTTP_CACHE_FILE), {
      auditFile: deps.paths.auditFile,
      logger: deps.logger,
    }),
    clock: deps.clock,
    logger: deps.logger,
    tagPrefix,
  };
  switch (kind) {
    case 'github':
      return new GithubClient(parts, base);
    case 'gitea':
    case 'forgejo':
      return new GiteaClient(parts, base);
    case 'gitlab':
      return new GitlabClient(parts, base);
    case 'static':
      return new StaticClient(parts, config.forge.url);
  }
}
