// Which proxy a request goes through, by curl's convention: HTTPS_PROXY carries https traffic,
// HTTP_PROXY only http traffic (undici's EnvHttpProxyAgent sends https through HTTP_PROXY when
// HTTPS_PROXY is unset; curl and heph do not), NO_PROXY names hosts reached directly. Also the
// dispatcher for one route, built so that a proxy that accepts and drops connections fails the
// request once instead of being reconnected to in a tight loop.
import { Agent, type Dispatcher, Pool, ProxyAgent } from 'undici';
import type { Env } from '../platform/paths.js';

/** A proxy from the environment and the variable it came from (for messages). */
export interface ProxySetting {
  url: string;
  variable: string;
}

export interface ProxyEnv {
  http: ProxySetting | null;
  https: ProxySetting | null;
  /** NO_PROXY's entries: host (a leading `.` or `*.` dropped) and port (0: any). */
  noProxy: { host: string; port: number }[];
  /** NO_PROXY = "*": nothing goes through a proxy. */
  none: boolean;
}

/** The first of `names` set to a non-empty value (lower case first, as curl and undici read them). */
function fromEnv(env: Env, names: string[]): ProxySetting | null {
  for (const variable of names) {
    const url = env[variable]?.trim();
    if (url) return { url, variable };
  }
  return null;
}

export function proxyEnv(env: Env): ProxyEnv {
  const raw = (env.no_proxy ?? env.NO_PROXY ?? '').trim();
  const noProxy = raw
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((entry) => {
      const m = /^(.+):(\d+)$/.exec(entry);
      return {
        host: (m ? m[1]! : entry).replace(/^\*?\./, '').toLowerCase(),
        port: m ? Number(m[2]) : 0,
      };
    });
  return {
    http: fromEnv(env, ['http_proxy', 'HTTP_PROXY']),
    https: fromEnv(env, ['https_proxy', 'HTTPS_PROXY']),
    noProxy,
    none: raw === '*',
  };
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** The proxy `url` goes through, or null for a direct connection. */
export function proxyFor(url: URL, p: ProxyEnv): ProxySetting | null {
  const proxy = url.protocol === 'https:' ? p.https : url.protocol === 'http:' ? p.http : null;
  if (proxy === null || p.none) return null;
  // url.host keeps the brackets of an IPv6 address; the port is stripped by hand.
  const host = url.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
  for (const e of p.noProxy) {
    if (e.port !== 0 && e.port !== port) continue;
    if (host === e.host || host.endsWith(`.${e.host}`)) return null;
  }
  return proxy;
}

/** undici's error code for a socket that closed: it reconnects and retries queued requests. */
const SOCKET_CLOSED = 'UND_ERR_SOCKET';
/** The code heph gives a tunnel the proxy closed before answering CONNECT. */
export const PROXY_CLOSED = 'HEPH_PROXY_CLOSED';

/**
 * undici treats a closed socket while connecting as recoverable and reconnects at once, with
 * the request still queued, so a proxy that accepts and drops every connection made one check
 * open hundreds of connections a second, for ever (an abort cannot reach a request that never
 * got a connection). Renaming the error makes undici fail the queued request instead: one
 * connection per request, and the caller's schedule decides when to try again.
 */
function failOnce(connect: unknown): unknown {
  if (typeof connect !== 'function') return connect;
  return (opts: unknown, callback: (err: Error | null, socket: unknown) => void) =>
    (connect as (o: unknown, cb: (err: Error | null, socket: unknown) => void) => void)(
      opts,
      (err, socket) => {
        if (err && (err as { code?: unknown }).code === SOCKET_CLOSED) {
          const closed = Object.assign(
            new Error('the proxy closed the connection before answering CONNECT'),
            {
              code: PROXY_CLOSED,
              cause: err,
            },
          );
          callback(closed, null);
          return;
        }
        callback(err, socket);
      },
    );
}

export interface DispatcherTimeouts {
  connect: number;
  headers: number;
  body: number;
}

/** A dispatcher for one route: direct, or through `proxy` with the tunnel failing once. */
export function routeDispatcher(proxy: ProxySetting | null, t: DispatcherTimeouts): Dispatcher {
  const common = { connect: { timeout: t.connect }, headersTimeout: t.headers, bodyTimeout: t.body };
  if (proxy === null) return new Agent(common);
  return new ProxyAgent({
    ...common,
    uri: proxy.url,
    factory: (origin: string | URL, opts: object) =>
      new Pool(origin, {
        ...opts,
        connect: failOnce((opts as { connect?: unknown }).connect),
      } as Pool.Options),
  });
}
