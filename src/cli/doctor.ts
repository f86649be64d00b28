// `heph doctor`: gathers the facts as the service sees them, runs every check, prints each as
// ok/warn/fail with its fix (or one JSON document), and exits 1 when any check fails.
import { serviceDeps } from '../service/effects.js';
import { type DoctorCheck, doctorExitCode, runChecks } from '../service/doctor.js';
import { gatherFacts } from '../service/doctor-facts.js';
import { type CliContext, printJson, println, scoped } from './context.js';

const LABEL: Record<DoctorCheck['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export async function doctor(ctx: CliContext): Promise<number> {
  const facts = await gatherFacts(serviceDeps(ctx.deps), { scope: ctx.scope?.system ? 'system' : undefined });
  // fixes printed for a system install carry --system (and --user NAME)
  const results = runChecks(facts).map((r) => ({
    ...r,
    summary: scoped(ctx, r.summary),
    fix: r.fix && scoped(ctx, r.fix),
  }));
  const exit = doctorExitCode(results);
  if (ctx.json) {
    printJson(ctx, {
      ok: exit === 0,
      version: facts.version,
      checks: results.map((r) => ({ ...r, fix: r.fix ?? null })),
    });
    return exit;
  }
  const width = Math.max(...results.map((r) => r.id.length));
  for (const r of results) {
    println(ctx, `${LABEL[r.status]}  ${r.id.padEnd(width)}  ${r.summary}`);
    if (r.fix) println(ctx, `${' '.repeat(width + 8)}fix: ${r.fix}`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  println(
    ctx,
    `\n${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}, ${results.length - failed - warned} ok`,
  );
  return exit;
}
