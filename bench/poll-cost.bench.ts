// Poll cost with unchanged releases: HTTP requests and response body bytes of one check
// (checkForUpdate, the daemon's own call) against the loopback test forge of each kind, the
// repeat check set against the first check of the same run. Target: 1 request, 0 body bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../src/config/schema.js';
import { createDeps } from '../src/platform/deps.js';
import { resolvePaths } from '../src/platform/paths.js';
import { checkForUpdate } from '../src/update/check.js';
import { type ForgeKindServed, startForge } from '../test/helpers/forge-server.js';
import { row } from './lib.js';

const KINDS: ForgeKindServed[] = ['github', 'gitlab', 'gitea', 'forgejo', 'static'];
/**
 * Releases on the forge: more than one page of what heph asks for (GitHub 100, GitLab and Gitea
 * 50 a page), so the figures show that a machine on the newest release reads the first page only.
 */
const RELEASES = 120;
/** Repeat checks per kind; every one must cost the same, so a few show it. */
const REPEATS = 3;
/** The machine runs the newest release: the common case, where a poll finds nothing new. */
const CURRENT = `1.${RELEASES - 1}.0`;

interface Cost {
  requests: number;
  bodyBytes: number;
  fromCache: boolean;
  /** What the forge itself saw: requests and how many it answered 304. */
  served: number;
  notModified: number;
}

async function measure(kind: ForgeKindServed): Promise<{ first: Cost; repeat: Cost[]; etag: boolean }> {
  // FORGES.md: Gitea and Forgejo send no ETag on release endpoints; the test forge is told so.
  const forge = await startForge({ kind, etag: kind === 'gitea' || kind === 'forgejo' ? false : undefined });
  const home = mkdtempSync(join(tmpdir(), `heph-bench-poll-${kind}-`));
  try {
    for (let i = 0; i < RELEASES; i++) {
      const version = `1.${i}.0`;
      forge.publish({
        tag: `v${version}`,
        publishedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        notes: `Release ${version}: fixes and improvements.`,
        assets: [
          { name: `heph-${version}.tgz`, content: `bundle ${version}` },
          { name: 'SHA256SUMS', content: `sums ${version}\n` },
        ],
      });
    }
    const env = { HEPH_HOME: home, HEPH_MACHINE_ID: 'bench-poll-cost' };
    const deps = createDeps({ env, paths: resolvePaths(env) });
    const config = configSchema.parse({
      forge: { kind, url: forge.url, repo: kind === 'static' ? '' : forge.repo },
    });
    const once = async (): Promise<Cost> => {
      const before = forge.requests.length;
      const r = await checkForUpdate(config, deps, { current: CURRENT, paused: false });
      const seen = forge.requests.slice(before);
      return {
        requests: r.list.requests,
        bodyBytes: r.list.bodyBytes,
        fromCache: r.list.fromCache,
        served: seen.length,
        notModified: seen.filter((q) => q.status === 304).length,
      };
    };
    const first = await once();
    const repeat: Cost[] = [];
    for (let i = 0; i < REPEATS; i++) repeat.push(await once());
    const etag = forge.requests.some((q) => q.headers['if-none-match'] !== undefined);
    return { first, repeat, etag };
  } finally {
    await forge.close();
    rmSync(home, { recursive: true, force: true });
  }
}

console.log(
  `${RELEASES} releases on the forge, the machine on the newest (${CURRENT}); ${REPEATS} repeat checks`,
);
row('measure', 'value', 'target', null);
for (const kind of KINDS) {
  const { first, repeat, etag } = await measure(kind);
  const worst = repeat.reduce((a, b) => (b.requests + b.bodyBytes > a.requests + a.bodyBytes ? b : a));
  row(`${kind}: first check`, `${first.requests} req, ${first.bodyBytes} B`, 'baseline', null);
  const label = `${kind}: repeat check, nothing changed`;
  const value = `${worst.requests} req, ${worst.bodyBytes} B (${worst.notModified}×304)`;
  if (etag) {
    row(label, value, '1 req, 0 B', worst.requests === 1 && worst.bodyBytes === 0 && worst.fromCache);
  } else {
    // Gitea and Forgejo send no ETag on the releases list, so there is nothing to revalidate:
    // every poll reads its small first page again (src/forge/gitea.ts GITEA_POLL_LIMIT).
    row(label, value, '1 req, ≤ 8 KB', worst.requests === 1 && worst.bodyBytes <= 8 * 1024);
    row(
      `  ${kind}: bytes against the first check`,
      `${((worst.bodyBytes / first.bodyBytes) * 100).toFixed(0)}%`,
      '',
      null,
    );
  }
  if (worst.served !== worst.requests) {
    row(`  ${kind}: the forge saw`, `${worst.served} requests`, `= ${worst.requests}`, false);
  }
}
