// A minimal npm registry on 127.0.0.1 for tests of install.method = "npm": it serves real
// packuments (name, dist-tags, versions with dist.tarball, dist.integrity, dist.shasum) and real
// tarballs made by `npm pack`, so a real `npm pack`/`npm install -g` talks to it as to
// registry.npmjs.org. `swap` serves other bytes for a published version, with matching
// integrity: a registry (or a mirror) that was tampered with, which npm itself cannot notice.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PackedVersion {
  name: string;
  version: string;
  /** The file name `npm pack` gave it (`heph-1.1.0.tgz`, `acme-heph-1.1.0.tgz`). */
  filename: string;
  data: Buffer;
  sha256: string;
}

export interface TestRegistry {
  url: string;
  /** Paths asked for, in order. */
  requests: string[];
  /** Packs a package printing `version` for `--version` with the real `npm pack`, and serves it. */
  publish(name: string, version: string, opts?: PackOptions): PackedVersion;
  /** From now on serve `data` for name@version, with dist.integrity and shasum made to match it. */
  swap(name: string, version: string, data: Buffer): void;
  close(): Promise<void>;
}

const integrityOf = (data: Buffer) => `sha512-${createHash('sha512').update(data).digest('base64')}`;

export interface PackOptions {
  /** package.json `engines.node`. */
  enginesNode?: string;
}

/** A package folder whose `heph` bin prints `version`, packed by npm into a tarball. */
export function packPackage(
  name: string,
  version: string,
  workDir: string,
  opts: PackOptions = {},
): PackedVersion {
  const dir = mkdtempSync(join(workDir, 'pkg-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name,
      version,
      bin: { heph: 'bin/heph.js' },
      files: ['bin'],
      ...(opts.enginesNode ? { engines: { node: opts.enginesNode } } : {}),
    }),
  );
  writeFileSync(
    join(dir, 'bin', 'heph.js'),
    `#!/usr/bin/env node\nconsole.log(${JSON.stringify(version)});\n`,
    {
      mode: 0o755,
    },
  );
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
  });
  const [packed] = JSON.parse(out) as { filename: string }[];
  const data = readFileSync(join(dir, packed!.filename));
  rmSync(dir, { recursive: true, force: true });
  return {
    name,
    version,
    filename: packed!.filename,
    data,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}

export async function startNpmRegistry(): Promise<TestRegistry> {
  const work = mkdtempSync(join(tmpdir(), 'heph-npm-registry-'));
  const packages = new Map<string, Map<string, PackedVersion>>();
  const requests: string[] = [];
  let origin = '';

  const tarballPath = (p: PackedVersion) => `/${p.name}/-/${p.filename}`;
  const packument = (name: string) => {
    const versions = packages.get(name)!;
    const all = [...versions.values()];
    return {
      _id: name,
      name,
      'dist-tags': { latest: all[all.length - 1]!.version },
      versions: Object.fromEntries(
        all.map((p) => [
          p.version,
          {
            name,
            version: p.version,
            bin: { heph: 'bin/heph.js' },
            dist: {
              tarball: `${origin}${tarballPath(p)}`,
              integrity: integrityOf(p.data),
              shasum: createHash('sha1').update(p.data).digest('hex'),
            },
          },
        ]),
      ),
    };
  };

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const tarball = /^\/(.+)\/-\/([^/]+)$/.exec(path);
    if (tarball) {
      const found = [...(packages.get(tarball[1]!)?.values() ?? [])].find((p) => p.filename === tarball[2]);
      if (!found) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': found.data.length });
      res.end(found.data);
      return;
    }
    const name = path.slice(1);
    if (!packages.has(name)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    const body = JSON.stringify(packument(name));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/`,
    requests,
    publish(name, version, opts) {
      const p = packPackage(name, version, work, opts);
      if (!packages.has(name)) packages.set(name, new Map());
      packages.get(name)!.set(version, p);
      return p;
    },
    swap(name, version, data) {
      const p = packages.get(name)?.get(version);
      if (!p) throw new Error(`${name}@${version} is not published`);
      p.data = data;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(work, { recursive: true, force: true });
          r();
        });
      }),
  };
}
