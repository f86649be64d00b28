// heph doctor's facts gathered from real files the way the service sees them: a unit rendered by
// heph, its EnvironmentFile token used against a loopback forge that demands it, and the failures
// an operator meets (hand-edited Restart=, a node that moved away, a token the service can't read).
import { HEPH_APP } from '../../src/app/identity.js';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLauncher } from '../../src/install/launcher.js';
import { ensureStore, swapCurrent } from '../../src/install/store.js';
import { createDeps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { type DoctorCheck, runChecks } from '../../src/service/doctor.js';
import { gatherFacts } from '../../src/service/doctor-facts.js';
import { type ServiceDeps, serviceDeps } from '../../src/service/effects.js';
import { renderSecretFile, renderSystemdService } from '../../src/service/render.js';
import { buildSpec } from '../../src/service/spec.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

const SERVICE_TOKEN = 'svc-token-from-the-unit';
let root: string;
let forge: TestForge;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'heph-doctor-'));
  forge = await startForge({ kind: 'github' });
  forge.requireToken(SERVICE_TOKEN);
});
afterAll(async () => {
  await forge.close();
  rmSync(root, { recursive: true, force: true });
});

interface Setup {
  d: ServiceDeps;
  unitFile: string;
}

/** A scratch user with heph installed as a systemd user service, the way `daemon install` lays it out. */
function install(
  name: string,
  opts: {
    node?: string;
    tokenFile?: string;
    as?: { uid: number; userName: string };
    serviceEnv?: Record<string, string>;
  } = {},
): Setup {
  const home = join(root, name);
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    PATH: '/usr/bin:/bin',
  };
  const paths = resolvePaths(env);
  mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, '.config', 'heph'), { recursive: true });
  const tokenLine = opts.tokenFile ? `token_file = "${opts.tokenFile}"\n` : '';
  writeFileSync(
    paths.config,
    `[update]\nmode = "auto"\n[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "${forge.repo}"\n${tokenLine}`,
  );
  writeLauncher(paths);
  ensureStore(paths);
  const v = join(paths.store, '1.0.0');
  mkdirSync(join(v, 'dist'), { recursive: true });
  for (const f of ['package.json', 'dist/heph.mjs', 'dist/hephd.mjs']) writeFileSync(join(v, f), '{}\n');
  swapCurrent(paths, '1.0.0');
  const spec = buildSpec({
    app: HEPH_APP,
    manager: 'systemd',
    scope: 'user',
    socket: false,
    env: { ...env, HEPH_FORGE_TOKEN: SERVICE_TOKEN, ...opts.serviceEnv },
    paths,
    uid: 0,
    node: opts.node ?? process.execPath,
    home,
    drainTimeoutMs: 30_000,
    configText: '',
  });
  const unitDir = join(home, '.config', 'systemd', 'user');
  mkdirSync(unitDir, { recursive: true });
  const unitFile = join(unitDir, 'hephd.service');
  writeFileSync(unitFile, renderSystemdService(spec));
  writeFileSync(spec.secretFile, renderSecretFile(spec, SERVICE_TOKEN), { mode: 0o600 });
  // the shell running doctor has no token and its own proxy: doctor must not use either
  const shellEnv = { ...env, HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' };
  const d = serviceDeps(createDeps({ env: shellEnv, paths }), {
    facts: { platform: 'linux', systemdBooted: true },
    home,
    ...(opts.as ?? {}),
  });
  return { d, unitFile };
}

/** A real HTTP proxy on loopback that tunnels CONNECT requests and remembers where to. */
async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const byId = (results: DoctorCheck[], id: string) => results.filter((r) => r.id === id);

describe('heph doctor on a real install', () => {
  it('reaches the forge with the token of the unit EnvironmentFile, not the shell settings', async () => {
    const { d } = install('healthy');
    const before = forge.requests.length;
    const results = runChecks(await gatherFacts(d));
    expect(byId(results, 'config')[0]).toMatchObject({ status: 'ok' });
    expect(byId(results, 'unit')[0]).toMatchObject({ status: 'ok' });
    expect(byId(results, 'unit-paths')[0]).toMatchObject({ status: 'ok' });
    expect(byId(results, 'unit-stamp')[0]).toMatchObject({ status: 'ok' });
    expect(byId(results, 'forge')[0], JSON.stringify(results)).toMatchObject({ status: 'ok' });
    const sent = forge.requests.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${SERVICE_TOKEN}`);
    expect(byId(results, 'token')[0]).toMatchObject({ status: 'ok' }); // the 0600 EnvironmentFile
    expect(byId(results, 'store')[0]).toMatchObject({ status: 'ok', summary: 'current 1.0.0, no previous' });
    // nothing listens on the scratch socket
    expect(byId(results, 'daemon')[0]).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('heph daemon start'),
    });
  });

  it("goes through the unit's proxy, not the shell's", async () => {
    const proxy = await startConnectProxy();
    try {
      const { d } = install('proxied', { serviceEnv: { HTTP_PROXY: proxy.url } });
      const results = runChecks(await gatherFacts(d));
      expect(byId(results, 'forge')[0]).toMatchObject({
        status: 'ok',
        summary: expect.stringContaining(`via proxy ${proxy.url}`),
      });
      expect(proxy.tunnels).toContain(new URL(forge.url).host);
    } finally {
      await proxy.close();
    }
  });

  it('flags a hand-edited Restart=on-failure with its fix', async () => {
    const { d, unitFile } = install('on-failure');
    writeFileSync(unitFile, readFileSync(unitFile, 'utf8').replace('Restart=always', 'Restart=on-failure'));
    const results = runChecks(await gatherFacts(d));
    expect(byId(results, 'unit')[0]).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('Restart=on-failure: self-restart would stop the daemon'),
      fix: expect.stringContaining('run `heph daemon install`'),
    });
    expect(byId(results, 'unit-stamp')[0]).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('edited by hand'),
    });
  });

  it('flags a node path that no longer exists', async () => {
    const oldNode = join(root, 'node-20.11');
    writeFileSync(oldNode, '');
    chmodSync(oldNode, 0o755);
    const { d } = install('moved-node', { node: oldNode });
    rmSync(oldNode);
    const results = runChecks(await gatherFacts(d));
    expect(byId(results, 'unit-paths')[0]).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining(`${oldNode}, which no longer exists`),
      fix: expect.stringContaining('heph daemon install'),
    });
  });

  it('flags a token file the service user cannot read', async () => {
    const tokenFile = join(root, 'root-only-token');
    writeFileSync(tokenFile, 'tok\n', { mode: 0o600 });
    // the service runs as nobody (uid 65534), the file belongs to whoever runs this test
    const { d } = install('unreadable-token', { tokenFile, as: { uid: 65534, userName: 'nobody' } });
    if (process.getuid?.() === 65534) throw new Error('run this test as a user other than nobody');
    const results = runChecks(await gatherFacts(d));
    expect(byId(results, 'token')).toContainEqual({
      id: 'token',
      status: 'fail',
      summary: `forge.token_file ${tokenFile} cannot be read by nobody, who runs the service`,
      fix: `chown nobody ${tokenFile} && chmod 600 ${tokenFile}`,
    });
  });
});
