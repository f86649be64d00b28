// Runtime requirements end to end through the built CLI: a release whose engines.node the
// service's node does not satisfy is refused by `heph update apply` after download and before
// anything changes (update.failed names both nodes), and `heph update check` then reports it
// with reason `runtime` and the node it needs instead of offering it again.
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { readStore } from '../../src/install/store.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { type Artifacts, getArtifacts, replaceInTarball, seedStore, sha256 } from '../helpers/artifacts.js';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { startForge, type TestForge } from '../helpers/forge-server.js';

let art: Artifacts;
let forge: TestForge;
let h: Scratch;

beforeAll(async () => {
  art = await getArtifacts();
});

beforeEach(async () => {
  forge = await startForge({ kind: 'github', repo: 'octo/heph' });
  h = scratch('heph-runtime-cli-');
  await seedStore(resolvePaths(h.env), art, '1.0.0');
  h.writeConfig(`[forge]\nkind = "github"\nurl = "${forge.url}"\nrepo = "octo/heph"\n`);
});

afterEach(async () => {
  await forge.close();
  h.cleanup();
});

/** Publishes `version` with its package.json engines.node set to `range`. */
async function publish(version: string, range: string): Promise<void> {
  const tgz = join(mkdtempSync(join(tmpdir(), 'heph-engines-')), `heph-${version}.tgz`);
  copyFileSync(art.tarball(version), tgz);
  await replaceInTarball(
    tgz,
    'package/package.json',
    `${JSON.stringify({ name: 'heph', version, type: 'module', engines: { node: range }, bin: { heph: 'dist/heph.mjs', hephd: 'dist/hephd.mjs' } }, null, 2)}\n`,
  );
  forge.publish({
    tag: `v${version}`,
    assets: [
      { name: `heph-${version}.tgz`, file: tgz },
      { name: 'SHA256SUMS', content: `${sha256(tgz)}  heph-${version}.tgz\n` },
    ],
  });
}

describe('engines.node', () => {
  it('refuses a release the service node cannot run, then check says reason runtime', async () => {
    await publish('1.2.0', '>=99');
    const apply = await runHeph(['update', 'apply', '--version', '1.2.0', '--yes'], h.env, {
      timeout: 60_000,
    });
    expect(apply.exitCode).toBe(1);
    const node = process.versions.node;
    expect(apply.stderr).toContain(
      `heph 1.2.0 needs node >=99 (its package.json engines.node), but the service runs node ${node}`,
    );
    const paths = resolvePaths(h.env);
    expect(readStore(paths).current).toBe('1.0.0');
    expect(readdirSync(paths.store).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(readAudit(paths.auditFile, 1)[0]).toMatchObject({
      event: 'update.failed',
      version: '1.2.0',
      code: 'E_PREFLIGHT',
      error: expect.stringContaining(`needs node >=99`),
    });

    const check = await runHeph(['update', 'check', '--json'], h.env);
    const doc = JSON.parse(check.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      latest: '1.2.0',
      candidate: null,
      available: false,
      reason: 'runtime',
      requires: { node: '>=99' },
    });
    expect(doc.detail).toBe(`1.2.0 needs node >=99 (its engines.node); the service runs node ${node}`);
  });

  it('installs a release whose engines.node accepts the service node', async () => {
    await publish('1.2.0', `>=${process.versions.node.split('.')[0]}`);
    const apply = await runHeph(['update', 'apply', '--version', '1.2.0', '--yes'], h.env, {
      timeout: 60_000,
    });
    expect(apply.stderr).not.toMatch(/needs node/);
    expect(apply.exitCode).toBe(0);
    expect(readStore(resolvePaths(h.env)).current).toBe('1.2.0');
  });
});
