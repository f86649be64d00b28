// `heph release index DIR`: the publisher's side of the static release source (see
// forge/static-index.ts); prints what it indexed and which folders it skipped and why.
import { HEPH_NAMES } from '../app/identity.js';
import { resolve } from 'node:path';
import { writeReleaseIndex } from '../forge/static-index.js';
import { type CliContext, note, printJson, println } from './context.js';

export async function releaseIndex(
  ctx: CliContext,
  dir: string,
  _opts: { json?: boolean } = {},
): Promise<number> {
  const result = writeReleaseIndex(resolve(dir));
  if (ctx.json) {
    printJson(ctx, {
      file: result.file,
      releases: result.releases.map((r) => ({
        tag: r.tag,
        prerelease: r.prerelease,
        assets: r.assets.length,
      })),
      skipped: result.skipped,
    });
    return 0;
  }
  for (const s of result.skipped) note(ctx, `heph: skipped ${s.name}: ${s.reason}`);
  const pre = result.releases.filter((r) => r.prerelease).length;
  const count = `${result.releases.length} release${result.releases.length === 1 ? '' : 's'}`;
  println(ctx, `wrote ${result.file}: ${count}${pre > 0 ? ` (${pre} prerelease)` : ''}`);
  return 0;
}

/**
 * `heph release pack DIR --version X --out OUT [--sign KEY]`: see publish/pack.ts. The app this
 * command line belongs to is the one it packs: `heph release pack` packs heph, `acme release
 * pack` (defineApp) packs acme, so DIR's package.json must name it and hold its entry.
 */
export async function releasePack(
  ctx: CliContext,
  dir: string,
  opts: { version: string; out: string; sign?: string; trustedComment?: string; json?: boolean },
): Promise<number> {
  const { packRelease } = await import('../publish/pack.js');
  const r = await packRelease({
    dir,
    version: opts.version,
    out: opts.out,
    sign: opts.sign,
    trustedComment: opts.trustedComment,
    // heph's own command is the publisher's tool for any app folder (name and entries from its
    // package.json); an app's command (`acme release pack`) packs that app only.
    app:
      ctx.deps.app.name === HEPH_NAMES.name
        ? undefined
        : { name: ctx.deps.app.name, entry: ctx.deps.app.entry },
    env: ctx.deps.env,
  });
  if (ctx.json) {
    printJson(ctx, r);
    return 0;
  }
  if (r.removedSignature !== null) {
    note(ctx, `heph: removed ${r.removedSignature}: it signed the old SHA256SUMS (sign again with --sign)`);
  }
  println(ctx, `${r.tarball}  (${r.files.length} files, sha256 ${r.sha256})`);
  println(ctx, r.sums);
  if (r.signature !== null) println(ctx, r.signature);
  return 0;
}
