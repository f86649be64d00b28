// `heph release index DIR`: the publisher's side of the static release source (see
// forge/static-index.ts); prints what it indexed and which folders it skipped and why.
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
