// The one HTTP layer every forge client uses (undici): timeouts, a size cap on every body,
// proxies from the environment, User-Agent, redirects followed by hand so credentials never
// leave the forge's origin, and statuses turned into HephErrors (failures.ts).
import type { Readable } from 'node:stream';
import { type Dispatcher, request } from 'undici';
import { HephError } from '../errors.js';
import type { Clock } from '../platform/deps.js';
import type { Env } from '../platform/paths.js';
import type { AppIdentity } from '../app/identity.js';
import { type Headers, showUrl, statusError, transportError } from './failures.js';
import { type ProxySetting, type ProxyEnv, proxyEnv, proxyFor, routeDispatcher } from './proxy.js';

/** A forge that does not accept a connection (TCP + TLS) in this time is treated as down. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Time from sending a request to the response headers; forges answer list calls in well under a second. */
export const HEADERS_TIMEOUT_MS = 30_000;
/** Longest silence between two body chunks (undici's bodyTimeout is idle time, not total time). */
export const BODY_TIMEOUT_MS = 30_000;
/** Cap on an API answer: a page of 100 GitHub releases with long notes is well under 2 MiB. */
export const MAX_API_BODY_BYTES = 4 * 1024 * 1024;
/** Redirect hops followed by hand (GitHub asset → CDN is one; a chain longer than this is a loop). */
export const MAX_REDIRECTS = 5;
/**
 * Overall deadline of one check: every page of the release list together, or one small asset
 * (SHA256SUMS, a signature). The timeouts above are idle times that every byte resets, so a
 * forge (or a proxy) sending one byte just inside them, forever, would hold a check, and the
 * daemon's schedule behind it, indefinitely. A healthy forge answers a whole check in about a
 * second; two minutes leaves room for ten slow pages and then gives up (docs/operations.md).
 */
export const CHECK_DEADLINE_MS = 2 * 60_000;
/**
 * Overall deadline of one asset download: the 200 MiB cap (install/bundle.ts) at about
 * 115 KiB/s. A release bundle is a few MiB, so this only ends a download that trickles.
 */
export const DOWNLOAD_DEADLINE_MS = 30 * 60_000;

/** The overall deadlines; production uses the constants, tests pass shorter ones in HttpOptions. */
export interface Deadlines {
  check: number;
  download: number;
}

export const DEFAULT_DEADLINES: Deadlines = { check: CHECK_DEADLINE_MS, download: DOWNLOAD_DEADLINE_MS };

function deadlineError(forge: string, url: string, ms: number): HephError {
  const took =
    ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
  return new HephError(
    'E_FORGE_UNREACHABLE',
    `${forge} did not finish answering within ${took} (${showUrl(url)}): it sends too slowly`,
    {
      hint: 'the forge, or a proxy in between, trickles its answer; check the network and try again later',
      details: { forge, url: showUrl(url), deadlineMs: ms },
    },
  );
}

/**
 * Runs `fn` with a signal that aborts after `ms` (or when `outer` aborts, with outer's reason).
 * Whatever `fn` throws once the deadline has passed, the caller gets the deadline's
 * E_FORGE_UNREACHABLE: undici reports the abort in several shapes (headers, body, socket).
 */
export async function withDeadline<T>(
  forge: string,
  url: string,
  ms: number,
  outer: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  const expired = deadlineError(forge, url, ms);
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    ac.abort(expired);
  }, ms);
  timer.unref?.();
  const onOuter = () => ac.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  try {
    return await fn(ac.signal);
  } catch (e) {
    if (late) throw expired;
    throw e;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/**
 * Timeouts, with env overrides for tests that must see a timeout without waiting 30 s:
 * HEPH_HTTP_CONNECT_TIMEOUT_MS, HEPH_HTTP_HEADERS_TIMEOUT_MS, HEPH_HTTP_BODY_TIMEOUT_MS.
 */
export interface Timeouts {
  connect: number;
  headers: number;
  body: number;
}

function envMs(env: Env, name: string, fallback: number): number {
  const n = Number(env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function timeoutsFromEnv(env: Env): Timeouts {
  return {
    connect: envMs(env, 'HEPH_HTTP_CONNECT_TIMEOUT_MS', CONNECT_TIMEOUT_MS),
    headers: envMs(env, 'HEPH_HTTP_HEADERS_TIMEOUT_MS', HEADERS_TIMEOUT_MS),
    body: envMs(env, 'HEPH_HTTP_BODY_TIMEOUT_MS', BODY_TIMEOUT_MS),
  };
}

/** One dispatcher per route (proxy or direct) and timeouts, shared, so a daemon polling for months reuses sockets. */
const dispatchers = new Map<string, Dispatcher>();

function routeFor(proxy: ProxySetting | null, t: Timeouts): Dispatcher {
  const key = JSON.stringify([proxy?.url ?? null, t]);
  let d = dispatchers.get(key);
  if (!d) {
    d = routeDispatcher(proxy, t);
    dispatchers.set(key, d);
  }
  return d;
}

/** `heph/1.2.3`, `acme/0.4.0`: the User-Agent every request carries (GitHub requires one). */
export function userAgent(app: Pick<AppIdentity, 'name' | 'version'>): string {
  return `${app.name}/${app.version}`;
}

/**
 * The dispatcher for requests to `url`, with the proxy variables taken from `env` (never from
 * process.env behind the caller's back): HTTPS_PROXY for https, HTTP_PROXY for http, NO_PROXY
 * (proxy.ts).
 */
export function dispatcherFor(env: Env, t: Timeouts = timeoutsFromEnv(env), url?: URL): Dispatcher {
  const target = url ?? new URL('https://forge.invalid/');
  return routeFor(proxyFor(target, proxyEnv(env)), t);
}

export interface HttpOptions {
  /** The forge's name for messages ("github", "gitlab", …). */
  forge: string;
  env: Env;
  clock: Clock;
  /** Headers carrying the token, sent only to `credentialOrigin`. Empty without a token. */
  credentials: Record<string, string>;
  credentialOrigin: string;
  /** The User-Agent header (userAgent(deps.app)). */
  userAgent: string;
  dispatcher?: Dispatcher;
  /** Overall deadlines; DEFAULT_DEADLINES unless a test needs to see one pass quickly. */
  deadlines?: Partial<Deadlines>;
}

export interface Response {
  status: number;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
}

export interface OpenResponse extends Response {
  body: Readable;
  /** Content-Length, when the server sent one. */
  length: number | null;
}

function flatHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(raw)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export class ForgeHttp {
  /** Requests sent and body bytes read, for ReleaseList and the poll-cost benchmark. */
  requests = 0;
  bodyBytes = 0;
  readonly forge: string;
  readonly deadlines: Deadlines;
  private readonly opts: HttpOptions;
  private readonly proxies: ProxyEnv;
  private readonly timeouts: Timeouts;

  constructor(opts: HttpOptions) {
    this.opts = opts;
    this.forge = opts.forge;
    this.deadlines = { ...DEFAULT_DEADLINES, ...opts.deadlines };
    this.timeouts = timeoutsFromEnv(opts.env);
    this.proxies = proxyEnv(opts.env);
  }

  get authenticated(): boolean {
    return Object.keys(this.opts.credentials).length > 0;
  }

  /**
   * GET `url`, following redirects by hand: credentials go only to the forge's own origin, so a
   * hop to a CDN (another host or port) never sees the token. Returns the first non-redirect
   * answer with its body still to read; a status of 400 or more is thrown as a HephError.
   * A 304 is returned like a 200 (the caller asked with If-None-Match).
   */
  async open(url: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<OpenResponse> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const target = new URL(current);
      if (target.protocol !== 'https:' && target.protocol !== 'http:') {
        throw new HephError(
          'E_FORGE_PAYLOAD',
          `${this.forge} pointed to an unsupported URL ${showUrl(current)}`,
          {
            hint: 'only http(s) URLs can be fetched; check the release assets',
          },
        );
      }
      const sendCredentials = target.origin === this.opts.credentialOrigin;
      const all: Record<string, string> = {
        'user-agent': this.opts.userAgent,
        ...headers,
        ...(sendCredentials ? this.opts.credentials : {}),
      };
      let res: Dispatcher.ResponseData;
      const proxy = this.opts.dispatcher ? null : proxyFor(target, this.proxies);
      try {
        this.requests++;
        res = await request(current, {
          method: 'GET',
          headers: all,
          dispatcher: this.opts.dispatcher ?? routeFor(proxy, this.timeouts),
          headersTimeout: this.timeouts.headers,
          bodyTimeout: this.timeouts.body,
          signal,
        });
      } catch (e) {
        throw transportError(this.forge, current, e, proxy);
      }
      const h = flatHeaders(res.headers as Record<string, string | string[] | undefined>);
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && h.location) {
        await discard(res.body);
        current = redirectTarget(h.location, current, this.forge);
        continue;
      }
      if (res.statusCode >= 400) {
        const text = await readCapped(res.body, 64 * 1024, this.forge, current).catch(() => Buffer.alloc(0));
        this.bodyBytes += text.length;
        throw statusError(
          this.forge,
          res.statusCode,
          h,
          text.toString('utf8'),
          current,
          this.opts.clock.now(),
          sendCredentials && this.authenticated,
        );
      }
      const len = Number(h['content-length']);
      return {
        status: res.statusCode,
        headers: h,
        url: current,
        body: res.body,
        length: Number.isFinite(len) && h['content-length'] !== undefined ? len : null,
      };
    }
    throw new HephError(
      'E_FORGE_UNREACHABLE',
      `${this.forge}: more than ${MAX_REDIRECTS} redirects from ${showUrl(url)}`,
      {
        hint: 'the forge or its CDN is misconfigured; try again later',
      },
    );
  }

  /**
   * GET and read the whole body (at most `maxBytes`). Without `signal` the call has its own
   * check deadline; a caller making several calls as one check (the pager) passes the signal of
   * one deadline for all of them.
   */
  async get(
    url: string,
    headers: Record<string, string> = {},
    maxBytes = MAX_API_BODY_BYTES,
    signal?: AbortSignal,
  ): Promise<Response & { body: Buffer }> {
    if (signal === undefined) {
      return withDeadline(this.forge, url, this.deadlines.check, undefined, (s) =>
        this.get(url, headers, maxBytes, s),
      );
    }
    const res = await this.open(url, headers, signal);
    if (res.length !== null && res.length > maxBytes) {
      await discard(res.body);
      throw tooLarge(this.forge, res.url, maxBytes);
    }
    try {
      const body = await readCapped(res.body, maxBytes, this.forge, res.url);
      this.bodyBytes += body.length;
      return { status: res.status, headers: res.headers, url: res.url, body };
    } catch (e) {
      throw transportError(this.forge, res.url, e);
    }
  }
}

/** Where a Location header points, resolved against the URL that sent it. */
function redirectTarget(location: string, from: string, forge: string): string {
  try {
    return new URL(location, from).href;
  } catch {
    throw new HephError('E_FORGE_PAYLOAD', `${forge} redirected ${showUrl(from)} to an invalid URL`, {
      hint: 'the forge or a proxy in between is misconfigured; try again later',
    });
  }
}

export function tooLarge(forge: string, url: string, maxBytes: number): HephError {
  return new HephError(
    'E_FORGE_PAYLOAD',
    `${forge} sent more than ${Math.round(maxBytes / 1024)} KiB from ${showUrl(url)}; refusing to read more`,
    { hint: 'check forge.url points at the forge API; report this if it does', details: { maxBytes } },
  );
}

/** Reads a stream fully, aborting as soon as it exceeds `maxBytes`. */
export async function readCapped(
  body: Readable,
  maxBytes: number,
  forge: string,
  url: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes) {
      dropBody(body);
      throw tooLarge(forge, url, maxBytes);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Drops a body we will not read. undici's body emits an AbortError when destroyed unread; with
 * no listener that error would be uncaught and end the process (the daemon), so one is added.
 */
export function dropBody(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

async function discard(body: Readable): Promise<void> {
  dropBody(body);
}
