// The static release source: one index.json (heph's own format, written by `heph release index`)
// on any https/loopback host or in a file:// folder; asset URLs absolute or relative to it.
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { HephError } from '../errors.js';
import { conditionalGet } from './cache.js';
import { showUrl } from './failures.js';
import { downloadFile, downloadHttp, fetchTextHttp, readFileText } from './download.js';
import { MAX_API_BODY_BYTES } from './http.js';
import { type ClientParts, warnSkipped } from './list.js';
import { parseJson, parseWith, readReleaseItems, type SkippedRelease } from './payload.js';
import type {
  DownloadOptions,
  ForgeClient,
  ListOptions,
  Release,
  ReleaseList,
  ReleaseAsset,
} from './types.js';

export const INDEX_FILE = 'index.json';

const assetSchema = z.object({
  name: z.string().min(1),
  url: z.string().min(1),
  size: z.number().int().nonnegative().nullish(),
});

export const staticReleaseSchema = z.object({
  tag: z.string().min(1),
  prerelease: z.boolean().optional(),
  publishedAt: z.string(),
  notes: z.string().optional(),
  assets: z.array(assetSchema),
});

export const staticIndexSchema = z.object({ releases: z.array(z.unknown()) });

/** forge.url names index.json itself, or the folder holding it (with or without a trailing slash). */
export function indexUrlOf(forgeUrl: string): string {
  const u = new URL(forgeUrl);
  if (u.pathname.endsWith('.json')) return u.href;
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return new URL(INDEX_FILE, u).href;
}

/** True when the file:// URL `url` names a path inside the folder of the file:// index `indexUrl`. */
export function insideIndexFolder(url: string, indexUrl: string): boolean {
  try {
    const folder = dirname(fileURLToPath(indexUrl));
    const rel = relative(folder, fileURLToPath(url));
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  } catch {
    return false; // file://otherhost/… and other URLs with no local path
  }
}

/**
 * An asset URL from the index, resolved against the index's own URL. file:// is accepted only
 * from a file:// index, and only inside the index's own folder: an index (served, or a file
 * someone else can write) must not make heph read other local files (docs/configuration.md).
 */
function resolveAsset(url: string, indexUrl: string, where: string): string {
  let resolved: URL | null = null;
  try {
    resolved = new URL(url, indexUrl);
  } catch {
    resolved = null;
  }
  const local = indexUrl.startsWith('file:');
  if (local && resolved?.protocol === 'file:' && !insideIndexFolder(resolved.href, indexUrl)) {
    throw new HephError('E_FORGE_PAYLOAD', `static ${where}: url: points outside the index's folder`, {
      hint: 'a local index may only name files in its own folder; run `heph release index DIR` there',
      details: { forge: 'static', what: where },
    });
  }
  const ok =
    resolved !== null &&
    (resolved.protocol === 'https:' ||
      resolved.protocol === 'http:' ||
      (local && resolved.protocol === 'file:'));
  if (!ok) {
    throw new HephError(
      'E_FORGE_PAYLOAD',
      `static ${where}: url: expected an http(s) URL or a relative path`,
      {
        hint: 'rewrite the index with `heph release index DIR`, or fix the asset URL by hand',
        details: { forge: 'static', what: where },
      },
    );
  }
  return resolved!.href;
}

/** index.json as Releases, asset URLs made absolute. A semver prerelease tag is read by selection. */
export function parseStaticIndex(json: unknown, indexUrl: string, skipped?: SkippedRelease[]): Release[] {
  const index = parseWith(staticIndexSchema, json, 'static', 'index');
  return readReleaseItems(
    index.releases,
    (item, i) => {
      const r = parseWith(staticReleaseSchema, item, 'static', `release ${i}`);
      const assets: ReleaseAsset[] = r.assets.map((a, j) => ({
        name: a.name,
        url: resolveAsset(a.url, indexUrl, `release ${i} (${r.tag}): assets.${j}`),
        size: a.size ?? null,
        sha256: null,
      }));
      return {
        tag: r.tag,
        name: r.tag,
        notes: r.notes ?? '',
        draft: false,
        prerelease: r.prerelease ?? false,
        publishedAt: r.publishedAt,
        url: resolveAsset(`${encodeURIComponent(r.tag)}/`, indexUrl, `release ${i}`),
        assets,
      };
    },
    skipped,
  );
}

export class StaticClient implements ForgeClient {
  readonly kind = 'static' as const;
  readonly repo: string;
  readonly indexUrl: string;
  private readonly parts: ClientParts;

  constructor(parts: ClientParts, forgeUrl: string) {
    this.parts = parts;
    this.repo = parts.repo;
    this.indexUrl = indexUrlOf(forgeUrl);
  }

  private get local(): boolean {
    return this.indexUrl.startsWith('file:');
  }

  async listReleases(_opts: ListOptions = {}): Promise<ReleaseList> {
    const { http, cache, clock } = this.parts;
    const skipped: SkippedRelease[] = [];
    const read = (text: string) => {
      const releases = parseStaticIndex(parseJson(text, 'static', this.indexUrl), this.indexUrl, skipped);
      warnSkipped(this.parts.logger, 'static', skipped);
      return releases;
    };
    if (this.local) {
      const text = await readFileText(this.indexUrl, MAX_API_BODY_BYTES, 'static');
      return {
        releases: read(text),
        skipped,
        fromCache: false,
        requests: 0,
        bodyBytes: Buffer.byteLength(text),
      };
    }
    const startRequests = http.requests;
    const startBytes = http.bodyBytes;
    try {
      const got = await conditionalGet(
        http,
        cache,
        this.indexUrl,
        { accept: 'application/json' },
        clock.now(),
      );
      return {
        releases: read(got.text),
        skipped,
        fromCache: got.notModified,
        requests: http.requests - startRequests,
        bodyBytes: http.bodyBytes - startBytes,
      };
    } finally {
      cache?.save();
    }
  }

  async downloadAsset(asset: ReleaseAsset, dest: string, opts: DownloadOptions) {
    if (asset.url.startsWith('file:')) return downloadFile(this.fileOnly(asset.url), dest, opts, 'static');
    return downloadHttp(this.parts.http, asset.url, {}, dest, opts);
  }

  async fetchAssetText(asset: ReleaseAsset, maxBytes: number): Promise<string> {
    if (asset.url.startsWith('file:')) return readFileText(this.fileOnly(asset.url), maxBytes, 'static');
    return fetchTextHttp(this.parts.http, asset.url, {}, maxBytes);
  }

  /**
   * A file:// asset is read only when the index itself is a local file, and only when the file
   * it names, links resolved, is inside the index's folder (also resolved): a symlink planted in
   * the folder does not lead out of it (see resolveAsset).
   */
  private fileOnly(url: string): string {
    if (!this.local) {
      throw new HephError('E_FORGE_PAYLOAD', 'static: a file:// asset in an index served over HTTP', {
        hint: 'asset URLs of a served index must be http(s) or relative',
      });
    }
    let real: string | null = null;
    let folder: string | null = null;
    try {
      real = realpathSync(fileURLToPath(url));
      folder = realpathSync(dirname(fileURLToPath(this.indexUrl)));
    } catch {
      return url; // a missing file: the read reports it as not found, naming it
    }
    const rel = relative(folder, real);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new HephError('E_FORGE_PAYLOAD', `static: ${showUrl(url)} leads outside the index's folder`, {
        hint: 'a local index may only name files in its own folder (no links out of it); run `heph release index DIR` there',
        details: { forge: 'static', url: showUrl(url) },
      });
    }
    return url;
  }
}
