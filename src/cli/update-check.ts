// `heph update check [--json] [--exit-code]`: ask the forge now, with no daemon, and say what was
// found and why in a line or two. Works in every update.mode: a manual check is an explicit request.
import { loadConfig } from '../config/load.js';
import { EXIT } from '../errors.js';
import { type CheckReport, checkForUpdate, checkReport } from '../update/check.js';
import { type CliContext, note, printJson, println } from './context.js';

export interface UpdateCheckOptions {
  json?: boolean;
  exitCode?: boolean;
}

/** The human answer: the finding, then what to do (or when it changes by itself). */
export function describeCheck(r: CheckReport, name = 'heph'): string[] {
  if (r.available && r.release) {
    // select() appends why a newer release was not taken ("…; 2.0.0 is a major upgrade; …").
    const also = r.detail.split('; ').slice(1).join('; ');
    return [
      `${name} ${r.candidate} is available (current ${r.current}): ${r.release.url}`,
      `run \`heph update apply\` to install it${also ? ` (${also})` : ''}`,
    ];
  }
  const lines = [r.reason === 'up-to-date' ? r.detail : `no update to install: ${r.detail}`];
  if (r.eligibleAt !== null) lines.push(`eligible at ${r.eligibleAt}`);
  else if (r.reason !== 'up-to-date' && r.release) lines.push(`release: ${r.release.url}`);
  return lines;
}

export async function updateCheck(ctx: CliContext, opts: UpdateCheckOptions = {}): Promise<number> {
  const { deps } = ctx;
  const { config } = loadConfig(deps.paths.config, deps.env, deps.app);
  const report = checkReport(await checkForUpdate(config, deps), config);
  for (const s of report.skipped)
    note(ctx, `${deps.app.name}: warning: skipped a malformed release: ${s.problem}`);
  if (ctx.json) printJson(ctx, report);
  else for (const line of describeCheck(report, deps.app.name)) println(ctx, line);
  return opts.exitCode && report.available ? EXIT.candidate : EXIT.ok;
}
