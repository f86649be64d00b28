// The HTTP layer every client shares, against real loopback servers: credentials never follow a
// redirect to another origin (custom headers included), redirect loops end, timeouts come from
// the env overrides, proxies from the environment are used, and 5xx/rate limits carry retryAt.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createNetServer,
  type Server as NetServer,
} from 'node:net';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HephError } from '../../src/errors.js';
import { downloadHttp } from '../../src/forge/download.js';
import { DEFAULT_RATE_LIMIT_WAIT_MS, rateLimitRetryAt } from '../../src/forge/failures.js';
import { ForgeHttp, MAX_REDIRECTS } from '../../src/forge/http.js';
import { createForgeClient } from '../../src/forge/index.js';
import { MAX_PAGES } from '../../src/forge/list.js';
import { configSchema } from '../../src/config/schema.js';
import { createDeps, systemClock } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';

const servers: Server[] = [];
const netServers: NetServer[] = [];
/** Sockets a CONNECT handler took over: the HTTP server no longer tracks (or closes) them. */
const tunnelSockets: Duplex[] = [];
afterEach(async () => {
  for (const s of tunnelSockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  for (const s of netServers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
async function serve(handler: Handler): Promise<{ origin: string; seen: IncomingMessage['headers'][] }> {
  const seen: IncomingMessage['headers'][] = [];
  const s = createServer((req, res) => {
    seen.push(req.headers);
    handler(req, res);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
}

function http(origin: string, env: Record<string, string> = {}, credentials: Record<string, string> = {}) {
  return new ForgeHttp({
    forge: 'gitlab',
    env,
    clock: systemClock,
    credentials,
    credentialOrigin: origin,
    userAgent: 'heph/test',
  });
}

async function failure(p: Promise<unknown>): Promise<HephError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(HephError);
  return e as HephError;
}

describe('redirects', () => {
  it('sends credentials to the forge origin only, custom headers included (PRIVATE-TOKEN)', async () => {
    const cdn = await serve((_req, res) => res.end('payload'));
    const forge = await serve((req, res) => {
      if (req.url === '/hop') res.writeHead(302, { location: '/asset' }).end();
      else res.writeHead(302, { location: `${cdn.origin}/file?sig=1` }).end();
    });
    const client = http(forge.origin, {}, { 'private-token': 'glpat-xyz-0001' });
    const got = await client.get(`${forge.origin}/hop`);
    expect(got.body.toString()).toBe('payload');
    expect(got.url).toBe(`${cdn.origin}/file?sig=1`);
    expect(forge.seen.map((h) => h['private-token'])).toEqual(['glpat-xyz-0001', 'glpat-xyz-0001']);
    expect(cdn.seen[0]!['private-token']).toBeUndefined();
    expect(cdn.seen[0]!['user-agent']).toMatch(/^heph\//);
    expect(client.requests).toBe(3);
  });

  it(`gives up after ${MAX_REDIRECTS} hops`, async () => {
    const loop = await serve((_req, res) => res.writeHead(302, { location: '/again' }).end());
    const e = await failure(http(loop.origin).get(`${loop.origin}/start`));
    expect(e.code).toBe('E_FORGE_UNREACHABLE');
    expect(e.message).toContain(`more than ${MAX_REDIRECTS} redirects`);
    expect(loop.seen).toHaveLength(MAX_REDIRECTS + 1);
  });

  it.each(['file:///etc/passwd', 'http://[oops/'])('refuses a redirect to %s', async (location) => {
    const bad = await serve((_req, res) => res.writeHead(302, { location }).end());
    expect((await failure(http(bad.origin).get(`${bad.origin}/`))).code).toBe('E_FORGE_PAYLOAD');
  });
});

describe('timeouts and proxies from the environment', () => {
  it('HEPH_HTTP_HEADERS_TIMEOUT_MS makes a slow forge a timeout', async () => {
    const slow = await serve((_req, res) => {
      const t = setTimeout(() => res.end('late'), 2000);
      res.on('close', () => clearTimeout(t));
    });
    const e = await failure(
      http(slow.origin, { HEPH_HTTP_HEADERS_TIMEOUT_MS: '100' }).get(`${slow.origin}/`),
    );
    expect(e.code).toBe('E_FORGE_UNREACHABLE');
    expect(e.message).toContain('timed out waiting for the response headers');
  });

  it('goes through HTTP_PROXY (CONNECT to the forge) unless NO_PROXY names the host', async () => {
    const forge = await serve((_req, res) => res.end('via'));
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(req.url ?? '');
      tunnelSockets.push(socket);
      const [host, port] = (req.url ?? '').split(':');
      const up = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(socket).pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    servers.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const via = await http(forge.origin, { HTTP_PROXY: proxyUrl }).get(`${forge.origin}/x`);
    expect(via.body.toString()).toBe('via');
    expect(tunnels).toEqual([forge.origin.replace('http://', '')]);
    await http(forge.origin, {
      HTTP_PROXY: proxyUrl,
      NO_PROXY: '127.0.0.1',
      HEPH_HTTP_CONNECT_TIMEOUT_MS: '9002',
    }).get(`${forge.origin}/y`);
    expect(tunnels).toHaveLength(1);
  });
});

describe("proxies by curl's convention, and proxies that fail", () => {
  /** A CONNECT proxy on loopback that tunnels to the target and records each CONNECT. */
  async function tunnelProxy(): Promise<{ url: string; tunnels: string[] }> {
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(req.url ?? '');
      tunnelSockets.push(socket);
      const [host, port] = (req.url ?? '').split(':');
      const up = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(socket).pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    servers.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, tunnels };
  }

  /** A TCP server that counts connections and answers nothing (a TLS handshake to it fails). */
  async function silentTcp(onSocket: (s: import('node:net').Socket) => void): Promise<number> {
    const s = createNetServer(onSocket);
    netServers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  }

  it('with only HTTP_PROXY set, https goes direct; HTTPS_PROXY carries https, not http', async () => {
    const proxy = await tunnelProxy();
    let direct = 0;
    const port = await silentTcp((s) => {
      direct++;
      s.destroy();
    });
    const https = `https://127.0.0.1:${port}/api/v4/projects/1/releases`;
    await failure(http(`https://127.0.0.1:${port}`, { HTTP_PROXY: proxy.url }).get(https));
    expect(proxy.tunnels).toEqual([]);
    expect(direct).toBe(1);

    await failure(
      http(`https://127.0.0.1:${port}`, { https_proxy: proxy.url, HEPH_HTTP_CONNECT_TIMEOUT_MS: '9003' }).get(
        https,
      ),
    );
    expect(proxy.tunnels).toEqual([`127.0.0.1:${port}`]);

    const forge = await serve((_req, res) => res.end('direct'));
    const plain = await http(forge.origin, {
      HTTPS_PROXY: proxy.url,
      HEPH_HTTP_CONNECT_TIMEOUT_MS: '9004',
    }).get(`${forge.origin}/x`);
    expect(plain.body.toString()).toBe('direct');
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('a proxy that refuses connections is named, with the variable that set it', async () => {
    const closed = await silentTcp(() => {});
    await new Promise<void>((r) => netServers.pop()!.close(() => r()));
    const forge = await serve((_req, res) => res.end('never'));
    const proxyUrl = `http://127.0.0.1:${closed}`;
    const e = await failure(http(forge.origin, { HTTP_PROXY: proxyUrl }).get(`${forge.origin}/releases`));
    expect(e.code).toBe('E_FORGE_UNREACHABLE');
    expect(e.message).toBe(
      `cannot reach gitlab at ${forge.origin}/releases through the proxy ${proxyUrl}/ (HTTP_PROXY): connection refused`,
    );
    expect(e.hint).toContain('check the proxy in HTTP_PROXY');
    expect(forge.seen).toHaveLength(0);
  });

  it('a proxy that accepts and drops every connection costs one connection, not hundreds', async () => {
    let connections = 0;
    const port = await silentTcp((s) => {
      connections++;
      s.destroy();
    });
    const forge = await serve((_req, res) => res.end('never'));
    const proxyUrl = `http://user:secret@127.0.0.1:${port}`;
    const e = await failure(http(forge.origin, { HTTP_PROXY: proxyUrl }).get(`${forge.origin}/releases`));
    expect(e.code).toBe('E_FORGE_UNREACHABLE');
    expect(e.message).toBe(
      `cannot reach gitlab at ${forge.origin}/releases through the proxy http://127.0.0.1:${port}/ (HTTP_PROXY): ` +
        'it closed the connection before answering',
    );
    expect(e.message).not.toContain('secret');
    expect(connections).toBe(1);
  });

  it('a proxy that answers CONNECT with 407 or 502 is named with its answer', async () => {
    const status = [407, 502];
    const proxy = createServer();
    proxy.on('connect', (_req, socket) => {
      const s = status.shift();
      socket.end(`HTTP/1.1 ${s} No\r\ncontent-length: 0\r\n\r\n`);
    });
    servers.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
    const forge = await serve((_req, res) => res.end('never'));
    const auth = await failure(http(forge.origin, { HTTP_PROXY: proxyUrl }).get(`${forge.origin}/a`));
    expect(auth.message).toMatch(
      /through the proxy .* \(HTTP_PROXY\): it asks for credentials \(HTTP 407\)$/,
    );
    expect(auth.hint).toContain('credentials in HTTP_PROXY');
    const bad = await failure(http(forge.origin, { HTTP_PROXY: proxyUrl }).get(`${forge.origin}/b`));
    expect(bad.message).toMatch(/: it refused to connect to gitlab \(HTTP 502\)$/);
  });
});

describe('downloads that stall or are cancelled', () => {
  /** Sends half of what Content-Length promises, then goes quiet until the client gives up. */
  const stalling: Handler = (_req, res) => {
    res.writeHead(200, { 'content-length': 10 });
    res.write('12345');
  };

  it('HEPH_HTTP_BODY_TIMEOUT_MS ends a body that goes quiet; no partial file is left', async () => {
    const stall = await serve(stalling);
    const dir = mkdtempSync(join(tmpdir(), 'heph-stall-'));
    try {
      const dest = join(dir, 'asset');
      const client = http(stall.origin, { HEPH_HTTP_BODY_TIMEOUT_MS: '150' });
      const e = await failure(downloadHttp(client, `${stall.origin}/a.tgz`, {}, dest, { maxBytes: 100 }));
      expect(e.code).toBe('E_FORGE_UNREACHABLE');
      expect(e.message).toContain('timed out waiting for the response body');
      expect(existsSync(dest)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an aborted download rejects with the AbortError and removes the file', async () => {
    const stall = await serve(stalling);
    const dir = mkdtempSync(join(tmpdir(), 'heph-abort-'));
    try {
      const dest = join(dir, 'asset');
      const ac = new AbortController();
      const got = downloadHttp(http(stall.origin), `${stall.origin}/a.tgz`, {}, dest, {
        maxBytes: 100,
        signal: ac.signal,
        onProgress: (n) => {
          if (n >= 5) ac.abort();
        },
      }).catch((x: unknown) => x);
      expect(((await got) as Error).name).toBe('AbortError');
      expect(existsSync(dest)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('overall deadlines (a forge that trickles one byte just inside the idle timeout)', () => {
  /** One byte every 40 ms, well inside every idle timeout, for 6 s: a body that never seems to end. */
  const trickle: Handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    let n = 0;
    const t = setInterval(() => {
      if (++n >= 150) {
        clearInterval(t);
        res.end('1]');
      } else res.write(' ');
    }, 40);
    res.on('close', () => clearInterval(t));
  };

  it('an API call ends at the check deadline as E_FORGE_UNREACHABLE naming the forge and the URL', async () => {
    const slow = await serve(trickle);
    const client = new ForgeHttp({
      forge: 'gitea',
      env: {},
      clock: systemClock,
      credentials: {},
      credentialOrigin: slow.origin,
      userAgent: 'heph/test',
      deadlines: { check: 300 },
    });
    const e = await failure(client.get(`${slow.origin}/api/v1/repos/a/b/releases?page=1`));
    expect(e.code).toBe('E_FORGE_UNREACHABLE');
    expect(e.message).toBe(
      `gitea did not finish answering within 300 ms (${slow.origin}/api/v1/repos/a/b/releases): it sends too slowly`,
    );
    expect(e.details).toMatchObject({ deadlineMs: 300 });
  });

  it('the whole paged list shares one deadline', async () => {
    const pages: string[] = [];
    const forge = await serve((req, res) => {
      pages.push(req.url ?? '');
      const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page'));
      // Each page is quick on its own (about 150 ms) and points at the next one, for ever.
      const t = setTimeout(() => {
        const next = `<${forge.origin}/api/v1/repos/a/b/releases?page=${page + 1}&limit=50>; rel="next"`;
        res.writeHead(200, { 'content-type': 'application/json', link: next }).end(`[${release(page)}]`);
      }, 150);
      res.on('close', () => clearTimeout(t));
    });
    const release = (n: number) =>
      JSON.stringify({
        tag_name: `v0.0.${n}`,
        draft: false,
        prerelease: false,
        published_at: '2026-01-01T00:00:00Z',
        html_url: 'http://x/',
        assets: [],
      });
    const config = configSchema.parse({ forge: { kind: 'gitea', url: forge.origin, repo: 'a/b' } });
    const home = mkdtempSync(join(tmpdir(), 'heph-deadline-'));
    try {
      const env = { HEPH_HOME: home };
      const client = createForgeClient(config, createDeps({ env, paths: resolvePaths(env) }), {
        deadlines: { check: 400 },
      });
      const e = await failure(client.listReleases({ running: '9.9.9' }));
      expect(e.code).toBe('E_FORGE_UNREACHABLE');
      expect(e.message).toMatch(/^gitea did not finish answering within 400 ms/);
      // Each page alone is well inside the deadline, and ten of them are well past it: the walk
      // ended on the one deadline they share, before the page cap.
      expect(pages.length).toBeLessThan(MAX_PAGES);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a download ends at the download deadline and leaves no partial file', async () => {
    const slow = await serve(trickle);
    const dir = mkdtempSync(join(tmpdir(), 'heph-trickle-'));
    try {
      const dest = join(dir, 'asset');
      const client = new ForgeHttp({
        forge: 'github',
        env: {},
        clock: systemClock,
        credentials: {},
        credentialOrigin: slow.origin,
        userAgent: 'heph/test',
        deadlines: { download: 300 },
      });
      const e = await failure(downloadHttp(client, `${slow.origin}/a.tgz`, {}, dest, { maxBytes: 10_000 }));
      expect(e.code).toBe('E_FORGE_UNREACHABLE');
      expect(e.message).toContain('did not finish answering within');
      expect(existsSync(dest)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('statuses', () => {
  it('5xx with Retry-After is E_FORGE_UNREACHABLE with details.retryAt', async () => {
    const down = await serve((_req, res) => res.writeHead(503, { 'retry-after': '30' }).end('maintenance'));
    const before = Date.now();
    const e = await failure(
      http(down.origin).get(`${down.origin}/api/v4/projects/1/releases?private_token=x`),
    );
    expect(e.code).toBe('E_FORGE_UNREACHABLE');
    expect(e.message).toBe(`gitlab answered HTTP 503 for ${down.origin}/api/v4/projects/1/releases`);
    expect((e.details as { retryAt: number }).retryAt).toBeGreaterThanOrEqual(before + 30_000);
  });

  const NOW = 1_800_000_000_000;
  it.each([
    [429, { 'retry-after': '10' }, '', NOW + 10_000],
    [429, {}, '', NOW + DEFAULT_RATE_LIMIT_WAIT_MS],
    [403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 600) }, '', NOW + 600_000],
    [403, { 'ratelimit-remaining': '0', 'ratelimit-reset': '45' }, '', NOW + 45_000],
    [403, {}, 'You have exceeded a secondary rate limit', NOW + DEFAULT_RATE_LIMIT_WAIT_MS],
    [403, { 'x-ratelimit-remaining': '12' }, 'Resource not accessible', null],
    [401, { 'retry-after': '10' }, '', null],
    [
      429,
      { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' },
      '',
      Math.max(Date.parse('2026-10-21T07:28:00Z'), NOW),
    ],
  ])('rateLimitRetryAt(%i, %j, %j)', (status, headers, body, want) => {
    expect(rateLimitRetryAt(status, headers, body, NOW)).toBe(want);
  });
});
