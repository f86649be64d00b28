// Turning what went wrong on the wire into HephErrors: HTTP statuses (401/403/404/429/5xx,
// rate limits read from the forge's headers) and socket errors. Every message is one line
// with what to do next; none contains a token (URLs are shown without query or user info).
import { humanDuration } from '../config/duration.js';
import { HephError } from '../errors.js';

/** When a forge says "rate limited" without saying until when, wait this long (GitHub's advice: at least a minute). */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
/** x-ratelimit-reset values below this are deltas in seconds (IETF draft), above it epoch seconds. */
const EPOCH_SECONDS_THRESHOLD = 1_000_000_000;

export type Headers = Record<string, string | undefined>;

/** A URL fit for a message: origin and path, no user info or query string. */
export function showUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.protocol === 'file:' ? u.pathname : `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  const secs = Number(value.trim());
  if (Number.isFinite(secs) && secs >= 0) return now + secs * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : date;
}

/**
 * Epoch ms until which the forge asks us to wait, or null when this is not a rate limit.
 * GitHub: 403/429 with x-ratelimit-remaining 0 → x-ratelimit-reset (epoch seconds); secondary
 * limits → retry-after, else a minute. GitLab: RateLimit-Remaining/-Reset, Retry-After on 429.
 */
export function rateLimitRetryAt(status: number, headers: Headers, body: string, now: number): number | null {
  if (status !== 403 && status !== 429) return null;
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== null) return Math.max(retryAfter, now);
  const remaining = headers['x-ratelimit-remaining'] ?? headers['ratelimit-remaining'];
  if (remaining !== undefined && remaining.trim() === '0') {
    const reset = Number(headers['x-ratelimit-reset'] ?? headers['ratelimit-reset']);
    if (Number.isFinite(reset) && reset > 0) {
      const at = reset >= EPOCH_SECONDS_THRESHOLD ? reset * 1000 : now + reset * 1000;
      return Math.max(at, now);
    }
    return now + DEFAULT_RATE_LIMIT_WAIT_MS;
  }
  if (status === 429 || /rate limit/i.test(body.slice(0, 2000))) return now + DEFAULT_RATE_LIMIT_WAIT_MS;
  return null;
}

export function rateLimitedError(forge: string, retryAt: number, now: number): HephError {
  const when = new Date(retryAt).toISOString();
  return new HephError(
    'E_FORGE_RATE_LIMITED',
    `${forge} rate limit reached: try again after ${when} (in ${humanDuration(retryAt - now)})`,
    {
      hint: 'wait until then; a token (HEPH_FORGE_TOKEN or forge.token_file) raises the limit',
      details: { retryAt, forge },
    },
  );
}

/** The HephError for a final (non-redirect) status of 400 or more. */
export function statusError(
  forge: string,
  status: number,
  headers: Headers,
  body: string,
  url: string,
  now: number,
  authenticated: boolean,
): HephError {
  const where = showUrl(url);
  const retryAt = rateLimitRetryAt(status, headers, body, now);
  if (retryAt !== null) return rateLimitedError(forge, retryAt, now);
  const details = { status, forge, url: where };
  if (status === 401 || status === 403) {
    return new HephError('E_FORGE_AUTH', `${forge} refused the request (HTTP ${status}) for ${where}`, {
      hint: authenticated
        ? 'the token was refused: check that it is valid, not expired, and can read the repository'
        : 'a private repository needs a token: set HEPH_FORGE_TOKEN or forge.token_file',
      details,
    });
  }
  if (status === 404 || status === 410) {
    return new HephError('E_FORGE_NOT_FOUND', `${forge} has nothing at ${where} (HTTP ${status})`, {
      hint:
        forge === 'static'
          ? 'check forge.url: it names index.json or the folder that holds it (`heph release index DIR` writes one)'
          : authenticated
            ? 'check forge.url and forge.repo, and that the token can see the repository'
            : 'check forge.url and forge.repo; a private repository also needs a token (HEPH_FORGE_TOKEN)',
      details,
    });
  }
  if (status >= 500) {
    const retry = parseRetryAfter(headers['retry-after'], now);
    return new HephError('E_FORGE_UNREACHABLE', `${forge} answered HTTP ${status} for ${where}`, {
      hint: 'the forge has trouble right now; try again later',
      details: retry === null ? details : { ...details, retryAt: retry },
    });
  }
  return new HephError('E_FORGE_UNREACHABLE', `${forge} answered HTTP ${status} for ${where}`, {
    hint: 'check forge.url and forge.kind; try again later',
    details,
  });
}

const SOCKET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out waiting for the response body',
  UND_ERR_SOCKET: 'the connection was closed early',
  UND_ERR_CLOSED: 'the connection was closed early',
  UND_ERR_PRX_TLS: 'the proxy TLS connection failed',
  HEPH_PROXY_CLOSED: 'it closed the connection before answering',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
};

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code in SOCKET_REASONS) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  const top = (e as { code?: unknown } | null)?.code;
  return typeof top === 'string' ? top : undefined;
}

/** Failures of the connection to a proxy (or of its CONNECT answer), not of the forge behind it. */
const PROXY_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_PRX_TLS',
  'HEPH_PROXY_CLOSED',
]);

/** The proxy's own failure, named as the proxy (with the variable that set it), or null. */
function proxyFailure(
  forge: string,
  url: string,
  e: unknown,
  proxy: { url: string; variable: string },
): HephError | null {
  const code = errorCode(e);
  const message = (e as Error | null)?.message ?? '';
  // undici: "Proxy response (407) !== 200 when HTTP Tunneling", "Proxy Authentication Required (407)".
  const answered = /^Proxy (response \((\d+)\)|Authentication Required \((\d+)\))/.exec(message);
  if (answered === null && !(code !== undefined && PROXY_CODES.has(code))) return null;
  const status = answered ? (answered[2] ?? answered[3]) : null;
  const reason =
    status !== null
      ? status === '407'
        ? 'it asks for credentials (HTTP 407)'
        : `it refused to connect to ${forge} (HTTP ${status})`
      : ((code && SOCKET_REASONS[code]) ?? code ?? 'network error');
  const shown = showUrl(proxy.url);
  return new HephError(
    'E_FORGE_UNREACHABLE',
    `cannot reach ${forge} at ${showUrl(url)} through the proxy ${shown} (${proxy.variable}): ${reason}`,
    {
      hint:
        status === '407'
          ? `put the proxy's credentials in ${proxy.variable} (http://user:password@host:port)`
          : `check the proxy in ${proxy.variable}, or list the forge's host in NO_PROXY to reach it directly`,
      details: {
        forge,
        url: showUrl(url),
        proxy: shown,
        variable: proxy.variable,
        code: code ?? null,
        status,
      },
      cause: e,
    },
  );
}

/**
 * A transport failure (no HTTP answer) as E_FORGE_UNREACHABLE; when the request went through a
 * proxy and the failure is the proxy's (refused, unreachable, closed, a non-200 CONNECT
 * answer), the message names the proxy rather than the forge. HephErrors and aborts pass through.
 */
export function transportError(
  forge: string,
  url: string,
  e: unknown,
  proxy: { url: string; variable: string } | null = null,
): unknown {
  if (e instanceof HephError) return e;
  const viaProxy = proxy === null ? null : proxyFailure(forge, url, e, proxy);
  if (viaProxy !== null) return viaProxy;
  if ((e as Error | null)?.name === 'AbortError') return e;
  const code = errorCode(e);
  const reason = (code && SOCKET_REASONS[code]) ?? code ?? 'network error';
  const through = proxy === null ? '' : ` through the proxy ${showUrl(proxy.url)} (${proxy.variable})`;
  return new HephError(
    'E_FORGE_UNREACHABLE',
    `cannot reach ${forge} at ${showUrl(url)}${through}: ${reason}`,
    {
      hint: 'check forge.url, the network and HTTPS_PROXY/HTTP_PROXY/NO_PROXY; try again later',
      details: { forge, url: showUrl(url), code: code ?? null },
      cause: e,
    },
  );
}
