// `heph update history`: the audit log, newest first.
import { readAudit } from '../audit/log.js';
import { HephError } from '../errors.js';
import { type CliContext, printJson, println } from './context.js';

export async function updateHistory(
  ctx: CliContext,
  opts: { limit?: string; json?: boolean },
): Promise<number> {
  const limit = Number(opts.limit ?? '50');
  if (!Number.isInteger(limit) || limit < 1) {
    throw new HephError('E_USAGE', `--limit expects a whole number of at least 1, got "${opts.limit}"`);
  }
  const events = readAudit(ctx.deps.paths.auditFile, limit);
  if (ctx.json) {
    printJson(ctx, { file: ctx.deps.paths.auditFile, events });
    return 0;
  }
  if (events.length === 0) {
    println(ctx, `no events yet (${ctx.deps.paths.auditFile})`);
    return 0;
  }
  for (const e of events) {
    const { time, event, version, reason, error, ...rest } = e;
    const extra = Object.entries(rest)
      .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const why = reason ? ` (${reason})` : error ? ` — ${error}` : '';
    println(ctx, `${time}  ${event.padEnd(18)} ${version ?? '-'}${why}${extra ? `  ${extra}` : ''}`);
  }
  return 0;
}
