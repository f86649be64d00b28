// What every forge client turns its payloads into, and the interface the rest of heph uses.
import type { ForgeKind } from '../config/schema.js';
import type { SkippedRelease } from './payload.js';

export interface ReleaseAsset {
  name: string;
  /** Where to download it (browser URL, or the API URL for private GitHub assets). */
  url: string;
  /** Bytes, when the forge says (GitLab links do not). */
  size: number | null;
  /** Lower-case hex SHA-256 the forge itself reports (GitHub `digest`), else null. */
  sha256: string | null;
}

export interface Release {
  tag: string;
  name: string;
  notes: string;
  draft: boolean;
  prerelease: boolean;
  /** ISO-8601, or null for an unpublished release. */
  publishedAt: string | null;
  /** The release's web page. */
  url: string;
  assets: ReleaseAsset[];
}

export interface ListOptions {
  /**
   * The running version: paging stops at the page that holds this version's own release. Every
   * forge lists newest first by creation or publication time, so what follows it was made
   * before it (list.ts, pageDecides). Without it, or when it is never seen, pages are walked up
   * to MAX_PAGES.
   */
  running?: string;
  /**
   * Page until a release with this version or tag is seen (`update apply --version`), then stop;
   * replaces the `running` rule for this call.
   */
  find?: string;
}

export interface ReleaseList {
  releases: Release[];
  /** Entries left out because they could not be read (payload.ts, readReleaseItems); absent: none. */
  skipped?: SkippedRelease[];
  /** True when every page came back 304 and the cached answer was used. */
  fromCache: boolean;
  /** HTTP requests made and response body bytes read, for the poll-cost benchmark. */
  requests: number;
  bodyBytes: number;
}

export interface DownloadOptions {
  maxBytes: number;
  onProgress?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
}

export interface ForgeClient {
  readonly kind: ForgeKind;
  readonly repo: string;
  listReleases(opts?: ListOptions): Promise<ReleaseList>;
  /** Streams an asset to the file `dest` (created 0600); returns its size and SHA-256 hex. */
  downloadAsset(
    asset: ReleaseAsset,
    dest: string,
    opts: DownloadOptions,
  ): Promise<{ bytes: number; sha256: string }>;
  /** A small text asset (SHA256SUMS, .minisig) with the same auth and redirect rules. */
  fetchAssetText(asset: ReleaseAsset, maxBytes: number): Promise<string>;
}
