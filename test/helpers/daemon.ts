// Starts a real hephd (the built bundle, or any entry such as a store's dist/hephd.mjs) in a
// scratch HEPH_HOME, waits for its socket to answer, talks to it, and stops it by its pid.
import { tempDir } from './tmp.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { cleanEnv, HEPHD } from './cli.js';

/** How long a daemon may take to answer its first health request (cold start on a busy 2-core box). */
export const START_TIMEOUT_MS = 20_000;
/** A stopped daemon must have exited by then, or the test fails instead of hanging. */
export const STOP_TIMEOUT_MS = 40_000;

/**
 * An empty folder for HEPH_DEV_PROBE_ROOT: the daemon then sees no container files and no systemd
 * cgroup, whatever machine the test runs on (test machines are often containers themselves).
 */
export function plainProbeRoot(): string {
  return tempDir('heph-probe-');
}

/**
 * A folder for HEPH_DEV_PROBE_ROOT that makes hephd believe systemd runs it
 * (src/platform/supervisor.ts): its cgroup is a .service unit, so with INVOCATION_ID set the
 * supervisor is "systemd".
 */
export function systemdProbeRoot(): string {
  const root = tempDir('heph-probe-systemd-');
  mkdirSync(join(root, 'proc', 'self'), { recursive: true });
  writeFileSync(
    join(root, 'proc', 'self', 'cgroup'),
    '0::/user.slice/user@0.service/app.slice/hephd.service\n',
  );
  return root;
}

/** Parsed JSON as tests read it: ad hoc paths into documents whose shape the test asserts. */
// biome-ignore lint/suspicious/noExplicitAny: tests index into answers freely and assert the shape
export type Json = any;

export interface Answer {
  status: number;
  body: Json;
}

/** One raw HTTP request over a unix socket (no retry, unlike the real client). */
export function socketRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      socketPath,
      method,
      path,
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path}`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.end(payload);
  });
}

export interface RunningDaemon {
  proc: ChildProcess;
  pid: number;
  socket: string;
  /** Everything the daemon wrote so far (JSON log lines on stdout, then stderr). */
  output(): string;
  /** Parsed JSON log records so far. */
  logs(): Array<Record<string, Json>>;
  call(method: string, path: string, body?: unknown): Promise<Answer>;
  /** Resolves with the exit code (or null and the signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) by pid and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** HEPH_HOME (required: the daemon's whole world). */
  home: string;
  env?: Record<string, string | undefined>;
  /** The entry to run; default the suite's bundle dist/hephd.mjs. */
  entry?: string;
  /** Do not wait for the socket (for daemons expected to refuse to start). */
  noWait?: boolean;
  /** Extra stdio entries after stdout/stderr (fd 3…), e.g. for socket activation. */
  extraStdio?: Array<'pipe' | 'ignore' | number>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `fn` returns true, or fails with `what` after `ms`. */
export async function waitFor(
  what: string,
  fn: () => boolean | Promise<boolean>,
  ms = START_TIMEOUT_MS,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function startDaemon(opts: StartOptions): Promise<RunningDaemon> {
  const socket = join(opts.home, 'run', 'hephd.sock');
  const env = cleanEnv({ HEPH_HOME: opts.home, HOME: opts.home, NO_COLOR: '1', ...opts.env });
  const proc = spawn(process.execPath, [opts.entry ?? HEPHD], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.extraStdio ?? [])],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  const d: RunningDaemon = {
    proc,
    pid: proc.pid!,
    socket,
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, Json>];
          } catch {
            return [];
          }
        }),
    call: (method, path, body) => socketRequest(socket, method, path, body),
    exited,
    async stop(signal = 'SIGTERM') {
      if (!done) process.kill(proc.pid!, signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`hephd (pid ${proc.pid}) did not exit within ${STOP_TIMEOUT_MS} ms`)),
          STOP_TIMEOUT_MS,
        );
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  if (!opts.noWait) {
    await waitFor(`hephd to answer on ${socket}`, async () => {
      if (done) throw new Error(`hephd exited before answering:\n${out}`);
      try {
        return (await socketRequest(socket, 'GET', '/v1/health', undefined, 2_000)).status > 0;
      } catch {
        return false;
      }
    });
  }
  return d;
}
