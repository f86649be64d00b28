// Shared helpers for the benchmarks: timing whole commands, reading a process's RSS and CPU
// from /proc, and printing a figure next to its baseline and target.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Wall time in ms of running `argv` to completion, `runs` times (after one warm-up). */
export function timeCommand(argv: string[], runs: number, env: NodeJS.ProcessEnv = process.env): number[] {
  const times: number[] = [];
  spawnSync(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}

/**
 * Wall times in ms of several commands, run in turn within each round (after one warm-up round):
 * a burst of load from another process then slows the baseline and the measured commands alike,
 * so their ratio stays honest on a small shared machine.
 */
export function timeInterleaved(
  argvs: string[][],
  runs: number,
  env: NodeJS.ProcessEnv = process.env,
): number[][] {
  const times = argvs.map(() => [] as number[]);
  for (let i = 0; i <= runs; i++) {
    argvs.forEach((argv, k) => {
      const t0 = process.hrtime.bigint();
      spawnSync(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
      if (i > 0) times[k]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  return times;
}

/** Resident set size in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** User + system CPU seconds consumed so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

export function row(label: string, value: string, target: string, ok: boolean | null): void {
  const mark = ok === null ? '' : ok ? 'ok' : 'MISSED';
  console.log(`${label.padEnd(52)} ${value.padEnd(28)} ${target.padEnd(16)} ${mark}`);
}

export function header(): void {
  row('measure', 'value', 'target', null);
}

/** The CLI bundle the benchmarks run: run.mjs passes where it built it (dist/ by default). */
export const DIST = process.env.HEPH_BENCH_DIST ?? join(process.cwd(), 'dist');
/** `npm run bench -- --quick`: fewer repetitions and shorter windows, for a check, not a figure. */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
