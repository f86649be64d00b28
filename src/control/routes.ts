// The control API's routes: which method and path call which daemon operation, how a request
// body is read, and how errors become `{"error":{code,message,hint}}` answers with a 4xx/5xx.
import { durationBoundProblem, parseDuration } from '../config/duration.js';
import { describeError, type ErrorCode, HephError } from '../errors.js';
import { METRICS_CONTENT_TYPE } from '../daemon/metrics.js';
import { redactText } from '../platform/logger.js';

/** What the daemon offers its socket; the server knows nothing else about it. */
export interface DaemonApi {
  health(): { ok: boolean; reason?: string };
  status(): unknown;
  check(): Promise<unknown>;
  /** `installed`: the version `heph update apply` just made current (restart into it). */
  apply(body: { installed?: string }): Promise<unknown>;
  pause(forMs: number | undefined): unknown;
  resume(): unknown;
  /** GET /v1/metrics: the Prometheus text (src/daemon/metrics.ts). */
  metrics?(): string;
  /** POST /v1/config/reload: re-read and apply the config file (E_CONFIG: refused, old kept). */
  reload?(): Promise<unknown>;
}

export interface Answer {
  status: number;
  body: unknown;
  /** Sent as is (a string body) with this Content-Type, instead of JSON. */
  contentType?: string;
}

/** HTTP status per error code: the caller's fault is 4xx, the forge's 502, ours 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  E_USAGE: 400,
  E_CONFIG: 400,
  E_NOT_FOUND: 404,
  E_LOCKED: 409,
  E_NOT_OWNED: 409,
  E_FORGE_UNREACHABLE: 502,
  E_FORGE_RATE_LIMITED: 502,
  E_FORGE_AUTH: 502,
  E_FORGE_NOT_FOUND: 502,
  E_FORGE_PAYLOAD: 502,
  E_VERIFY: 500,
  E_SMOKE_TEST: 500,
};

export function errorAnswer(status: number, code: string, message: string, hint?: string): Answer {
  return { status, body: { error: { code, message: redactText(message), hint: hint ?? null } } };
}

export function answerForError(e: unknown): Answer {
  if (e instanceof HephError) {
    return errorAnswer(STATUS_BY_CODE[e.code] ?? 500, e.code, e.message, e.hint);
  }
  return errorAnswer(500, 'E_INTERNAL', describeError(e));
}

/** The parsed JSON body: an object, or {} for an empty body. Anything else is a usage error. */
export function parseBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new HephError('E_USAGE', 'the request body is not valid JSON', {
      hint: 'send a JSON object, e.g. {"for": "2h"}',
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HephError('E_USAGE', 'the request body must be a JSON object', {
      hint: 'send a JSON object, e.g. {"for": "2h"}, or no body',
    });
  }
  return value as Record<string, unknown>;
}

function pauseFor(body: Record<string, unknown>): number | undefined {
  const text = body.for;
  if (text === undefined || text === null) return undefined;
  const ms = typeof text === 'string' ? parseDuration(text) : undefined;
  const bound = ms === undefined ? null : durationBoundProblem(ms);
  if (ms === undefined || bound !== null) {
    throw new HephError(
      'E_USAGE',
      `"for" expects a duration like "2h" or "7d", got ${JSON.stringify(text)}${bound ? `: it ${bound}` : ''}`,
      {
        hint: 'a number and a unit: s, m, h or d; leave "for" out to pause until resumed',
      },
    );
  }
  return ms;
}

function installedOf(body: Record<string, unknown>): { installed?: string } {
  const v = body.installed;
  if (v === undefined) return {};
  if (typeof v !== 'string' || v === '') {
    throw new HephError('E_USAGE', '"installed" expects a version string such as "1.2.3"', {
      hint: '`heph update apply` sends this after installing; use it rather than calling the socket by hand',
    });
  }
  return { installed: v };
}

type Handler = (api: DaemonApi, body: Record<string, unknown>) => Promise<Answer> | Answer;

const ROUTES: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
  '/v1/health': {
    GET: (api) => {
      const h = api.health();
      return { status: h.ok ? 200 : 503, body: h };
    },
  },
  '/v1/status': { GET: (api) => ({ status: 200, body: api.status() }) },
  '/v1/update/check': { POST: async (api) => ({ status: 200, body: await api.check() }) },
  '/v1/update/apply': { POST: async (api, b) => ({ status: 200, body: await api.apply(installedOf(b)) }) },
  '/v1/update/pause': { POST: (api, b) => ({ status: 200, body: api.pause(pauseFor(b)) }) },
  '/v1/update/resume': { POST: (api) => ({ status: 200, body: api.resume() }) },
  '/v1/config/reload': {
    POST: async (api) => {
      if (!api.reload) return errorAnswer(404, 'E_NOT_FOUND', 'this daemon cannot reload its config');
      return { status: 200, body: await api.reload() };
    },
  },
  '/v1/metrics': {
    GET: (api) => {
      if (!api.metrics) return errorAnswer(404, 'E_NOT_FOUND', 'this daemon serves no metrics');
      return { status: 200, body: api.metrics(), contentType: METRICS_CONTENT_TYPE };
    },
  },
};

/** Whether a path is a known route (the server reads bodies only for those). */
export function knownRoute(method: string, path: string): Answer | null {
  const route = ROUTES[path];
  if (!route) {
    return errorAnswer(
      404,
      'E_NOT_FOUND',
      `no such endpoint: ${path.slice(0, 100)}`,
      `the endpoints are ${Object.keys(ROUTES).join(', ')} (docs/daemon.md)`,
    );
  }
  if (!(method in route)) {
    const allowed = Object.keys(route).join(' or ');
    return errorAnswer(405, 'E_USAGE', `${method.slice(0, 10)} is not allowed on ${path}`, `use ${allowed}`);
  }
  return null;
}

/** Runs one request; never throws (every failure is an answer). */
export async function route(api: DaemonApi, method: string, path: string, raw: string): Promise<Answer> {
  const refused = knownRoute(method, path);
  if (refused) return refused;
  const handler = ROUTES[path]![method as 'GET' | 'POST']!;
  try {
    return await handler(api, method === 'POST' ? parseBody(raw) : {});
  } catch (e) {
    return answerForError(e);
  }
}
