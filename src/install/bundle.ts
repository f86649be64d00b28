// Method `bundle`: the release tarball into the versioned store. Preflight, signature and
// checksum list first (cheap, fail fast), then a streamed download with a size cap, checksum and
// forge digest, safe extraction into a temp folder inside the store, smoke test, rename, swap.
//
// Nothing is visible before it is verified: every intermediate lives under a `.tmp-` name inside
// the store (same filesystem, so the final rename is atomic) and is removed on failure, or by
// cleanStore() on the next run after a crash.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { HephError } from '../errors.js';
import type { ForgeClient, ReleaseAsset } from '../forge/types.js';
import type { Deps } from '../platform/deps.js';
import { fsyncDir } from '../platform/fs.js';
import { assetName } from '../release/version.js';
import type { VersionedRelease } from '../release/types.js';
import { checkAgainstSums, checkForgeDigest, parseSums } from './checksums.js';
import { extractRelease } from './extract.js';
import { installIoError } from './io-errors.js';
import { verifyMinisign } from './minisign.js';
import { preflight } from './preflight.js';
import { quarantineVersion } from './launcher-state.js';
import { checkRuntime } from './runtime.js';
import { probeBundle, smokeTestBundle } from './smoke.js';
import type { InstallHooks, InstallStep } from './steps.js';
import {
  assertSafeVersion,
  isComplete,
  prune,
  readStore,
  swapCurrent,
  tempName,
  versionDir,
} from './store.js';

/** heph's bundle is a few MB; anything near this is not heph, and the cap bounds disk use. */
export const MAX_ASSET_BYTES = 200 * 1024 * 1024;
/** SHA256SUMS and its signature are a few lines; a large "checksum file" is refused. */
export const MAX_SUMS_BYTES = 1024 * 1024;
export const SUMS_ASSET = 'SHA256SUMS';
export const SIGNATURE_ASSET = 'SHA256SUMS.minisig';

export interface BundleInput {
  config: Config;
  deps: Deps;
  client: ForgeClient;
  release: VersionedRelease;
  onProgress?: ((received: number, total: number | null) => void) | undefined;
  signal?: AbortSignal | undefined;
  hooks?: InstallHooks | undefined;
  /** Into the store only: `current` is left as it is (a maintenance window is not open). */
  stage?: boolean | undefined;
}

export interface BundleResult {
  path: string;
  previous: string | null;
}

function findAsset(release: VersionedRelease, name: string, why: string): ReleaseAsset {
  const a = release.assets.find((x) => x.name === name);
  if (!a) {
    throw new HephError('E_FORGE_NOT_FOUND', `release ${release.tag} has no asset ${name} (${why})`, {
      hint:
        name === SUMS_ASSET || name === SIGNATURE_ASSET
          ? 'publish it with the release (see docs/releasing.md), or set install.verify = "none" at your own risk'
          : 'check install.asset, or wait until the publisher uploads it',
    });
  }
  return a;
}

/** SHA256SUMS, fetched and (with verify = "minisign") its signature checked; null with verify = "none". */
export async function fetchTrustedSums(
  input: Pick<BundleInput, 'config' | 'client' | 'release' | 'deps'>,
): Promise<Map<string, string> | null> {
  const { config, client, release, deps } = input;
  const mode = config.install.verify;
  if (mode === 'none') {
    deps.logger.warn(
      { version: release.version },
      'install.verify = "none": the download is NOT checked against any checksum or signature',
    );
    return null;
  }
  const sumsText = await client.fetchAssetText(findAsset(release, SUMS_ASSET, 'checksums'), MAX_SUMS_BYTES);
  if (mode === 'minisign') {
    const sig = await client.fetchAssetText(findAsset(release, SIGNATURE_ASSET, 'signature'), MAX_SUMS_BYTES);
    const { keyId } = verifyMinisign(Buffer.from(sumsText, 'utf8'), sig, config.install.public_keys);
    deps.logger.info({ version: release.version, keyId }, 'SHA256SUMS signature verified');
  }
  return parseSums(sumsText);
}

/**
 * Readiness before the switch: the new version, started once in probe mode, must load this
 * machine's config, build its forge client and answer a health request. One that cannot is
 * quarantined (auto mode never selects it again; a newer release is picked up as usual).
 */
async function probeOrQuarantine(input: BundleInput, staging: string): Promise<void> {
  const { deps, release } = input;
  try {
    const outcome = await probeBundle(staging, deps.app.entry, release.version, deps.env);
    if (outcome === 'unsupported') {
      deps.logger.warn(
        { version: release.version },
        `${release.version} predates the readiness probe; only its smoke test was run`,
      );
    }
  } catch (e) {
    try {
      quarantineVersion(deps.paths, release.version, (e as Error).message);
    } catch (q) {
      deps.logger.error(
        { version: release.version, error: (q as Error).message },
        'cannot quarantine the version',
      );
    }
    throw e;
  }
}

export async function installBundle(input: BundleInput): Promise<BundleResult> {
  const { config, deps, client, release } = input;
  const { paths, env } = deps;
  const step = (s: InstallStep) => input.hooks?.onStep?.(s);
  const version = release.version;
  assertSafeVersion(version);
  const name = assetName(config.install.asset, version, release.tag);
  const asset = findAsset(release, name, 'install.asset');
  if (asset.size !== null && asset.size > MAX_ASSET_BYTES) {
    throw new HephError(
      'E_PREFLIGHT',
      `${name} is ${asset.size} bytes, over the ${MAX_ASSET_BYTES}-byte cap`,
      {
        hint: 'this is not a heph bundle; check install.asset',
      },
    );
  }
  preflight(paths, asset.size, input.hooks?.freeBytes);
  const sums = await fetchTrustedSums(input);
  if (sums !== null && !sums.has(name)) checkAgainstSums(sums, name, ''); // throws: not listed
  if (config.install.verify === 'attestation') {
    // Loaded here only: sigstore stays out of every other install and command (docs/performance.md).
    // The attested digest is SHA256SUMS's, which the download is then checked against.
    const { verifyReleaseAttestation } = await import('./attestation/index.js');
    await verifyReleaseAttestation({ ...input, assetName: name, sha256: sums?.get(name) ?? '' });
  }

  const download = tempName(paths, 'download');
  const staging = tempName(paths, 'extract');
  try {
    let killed = false;
    const got = await client.downloadAsset(asset, download, {
      maxBytes: MAX_ASSET_BYTES,
      signal: input.signal,
      onProgress: (received, total) => {
        input.onProgress?.(received, total);
        if (!killed && received > 0) {
          killed = true;
          step('download');
        }
      },
    });
    if (sums !== null) checkAgainstSums(sums, name, got.sha256);
    checkForgeDigest(name, asset.sha256, got.sha256);
    step('verify');

    mkdirSync(staging, { mode: 0o755 });
    await extractRelease(download, staging);
    rmSync(download, { force: true });
    if (!isComplete(staging, paths.versionFiles)) {
      throw new HephError(
        'E_UNSAFE_ARCHIVE',
        `${name} is not a release of ${deps.app.name} (no ${paths.versionFiles.join(' or ')})`,
        {
          hint: 'check install.asset names the tarball made by `heph release pack`',
        },
      );
    }
    await checkRuntime(staging, version, deps); // engines.node against the service's node
    step('extract');

    await smokeTestBundle(staging, deps.app.entry, version, env);
    await probeOrQuarantine(input, staging);
    step('smoke');

    const dest = versionDir(paths, version);
    let replaced: string | null = null;
    if (readStore(paths).versions.includes(version)) {
      // A reinstall of a version already in the store (not current): the fresh copy wins.
      replaced = tempName(paths, `replaced-${version}`);
      renameSync(dest, replaced);
    }
    renameSync(staging, dest);
    fsyncDir(paths.store);
    // The old copy goes now, not at the next install's cleanStore: it is a whole version on disk.
    if (replaced !== null) rmSync(replaced, { recursive: true, force: true });
    step('rename');

    if (input.stage) return { path: dest, previous: readStore(paths).current };
    const { previous } = swapCurrent(paths, version, () => step('swap'));
    const pruned = prune(paths, config.install.keep);
    if (pruned.length) deps.logger.info({ pruned }, 'pruned old versions');
    return { path: dest, previous };
  } catch (e) {
    // a disk that filled after the preflight, a planted link: E_IO naming the file, not E_INTERNAL
    throw installIoError(e, version, staging);
  } finally {
    rmSync(download, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}
