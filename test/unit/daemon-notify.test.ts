// Notify: argv building without a shell (quoted values inside an explicit sh -c), one
// announcement per version, and failing commands or webhooks audited as notify.failed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { configSchema } from '../../src/config/schema.js';
import { announce, notifyArgv } from '../../src/daemon/notify.js';
import { emptyState } from '../../src/update/state.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import type { VersionedRelease } from '../../src/release/types.js';

let home: string;
let deps: Deps;
let server: Server | null = null;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'heph-notify-'));
  deps = createDeps({ env: { HEPH_HOME: home, PATH: process.env.PATH } });
});
afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  server = null;
  rmSync(home, { recursive: true, force: true });
});

const rel = (version: string, tag = `v${version}`): VersionedRelease => ({
  tag,
  version,
  name: tag,
  notes: '',
  draft: false,
  prerelease: false,
  publishedAt: null,
  url: `https://forge.example/r/${tag}`,
  assets: [],
});

const events = () => readAudit(deps.paths.auditFile).reverse();

describe('notifyArgv', () => {
  it('fills placeholders inside words and never re-splits them', () => {
    expect(notifyArgv('notify-send "heph {version}" {url}', rel('1.2.3'))).toEqual([
      'notify-send',
      'heph 1.2.3',
      'https://forge.example/r/v1.2.3',
    ]);
  });

  it('quotes values inside an explicit sh -c script, so a hostile tag stays data', () => {
    const argv = notifyArgv("sh -c 'echo {tag}'", rel('1.2.3', "v1.2.3';touch /tmp/pwned;'"));
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv[2]).toBe(`echo 'v1.2.3'\\'';touch /tmp/pwned;'\\'''`);
  });
});

describe('announce', () => {
  it('audits update.available and runs the command once per version', async () => {
    const out = join(home, 'out.txt');
    const config = configSchema.parse({ notify: { command: `sh -c 'echo {version} >> ${out}'` } });
    const state = emptyState();
    expect(await announce(config, deps, state, rel('1.2.3'))).toBe(true);
    expect(await announce(config, deps, state, rel('1.2.3'))).toBe(false);
    expect(readFileSync(out, 'utf8')).toBe('1.2.3\n');
    expect(events().map((e) => e.event)).toEqual(['update.available']);
    expect(state.announced).toEqual(['1.2.3']);
  });

  it('a failing command and a failing webhook are audited as notify.failed, not thrown', async () => {
    server = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const config = configSchema.parse({
      notify: { command: 'sh -c "echo nope >&2; exit 3"', webhook: `http://127.0.0.1:${port}/hook` },
    });
    await announce(config, deps, emptyState(), rel('2.0.0'));
    const failed = events().filter((e) => e.event === 'notify.failed');
    expect(failed.map((e) => e.channel).sort()).toEqual(['command', 'webhook']);
    expect(failed.find((e) => e.channel === 'command')!.error).toContain('exit 3');
    expect(failed.find((e) => e.channel === 'webhook')!.error).toContain('HTTP 500');
  });

  it('refuses a plain-http webhook off loopback (validation refuses it first; this is the second line)', async () => {
    expect(configSchema.safeParse({ notify: { webhook: 'http://example.com/hook' } }).success).toBe(false);
    const valid = configSchema.parse({});
    const config = { ...valid, notify: { ...valid.notify, webhook: 'http://example.com/hook' } };
    await announce(config, deps, emptyState(), rel('2.0.0'));
    expect(events().find((e) => e.event === 'notify.failed')!.error).toContain('https://');
  });

  it('a command that cannot start is reported, not thrown', async () => {
    const config = configSchema.parse({ notify: { command: '/nonexistent/notifier {version}' } });
    await announce(config, deps, emptyState(), rel('2.0.1'));
    expect(events().find((e) => e.event === 'notify.failed')!.channel).toBe('command');
  });
});
