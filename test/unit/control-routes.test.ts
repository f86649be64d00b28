// The control API's routing table and error mapping, without a socket.
import { describe, expect, it } from 'vitest';
import { type DaemonApi, route } from '../../src/control/routes.js';
import { HephError } from '../../src/errors.js';

function api(over: Partial<DaemonApi> = {}): DaemonApi & { paused: Array<number | undefined> } {
  const paused: Array<number | undefined> = [];
  return {
    paused,
    health: () => ({ ok: true }),
    status: () => ({ running: true }),
    check: async () => ({ candidate: null }),
    apply: async (b) => ({ restarting: true, ...b }),
    pause: (ms) => {
      paused.push(ms);
      return { paused: true };
    },
    resume: () => ({ paused: false }),
    ...over,
  };
}

describe('route', () => {
  it.each([
    ['GET', '/v1/health', '', 200],
    ['GET', '/v1/status', '', 200],
    ['POST', '/v1/update/check', '', 200],
    ['POST', '/v1/update/resume', '{}', 200],
    ['POST', '/v1/update/apply', '{"installed":"1.2.3"}', 200],
    ['POST', '/v1/update/apply', '{"installed":7}', 400],
    ['POST', '/v1/update/pause', '{"for":"2h"}', 200],
    ['POST', '/v1/update/pause', '{"for":"2 hours"}', 400],
    ['POST', '/v1/update/pause', '[1]', 400],
    ['POST', '/v1/update/pause', '{', 400],
    ['GET', '/v1/update/pause', '', 405],
    ['POST', '/v1/status', '', 405],
    ['GET', '/v2/status', '', 404],
    ['GET', '/', '', 404],
  ])('%s %s %s → %i', async (method, path, body, status) => {
    const a = await route(api(), method, path, body);
    expect(a.status).toBe(status);
    if (status >= 400) expect((a.body as { error: { code: string } }).error.code).toMatch(/^E_/);
    // Every refusal says what to do instead.
    if (status >= 400)
      expect((a.body as { error: { hint: string | null } }).error.hint).toEqual(expect.any(String));
  });

  it('passes the pause duration in milliseconds, or none', async () => {
    const x = api();
    await route(x, 'POST', '/v1/update/pause', '{"for":"2h"}');
    await route(x, 'POST', '/v1/update/pause', '');
    expect(x.paused).toEqual([7_200_000, undefined]);
  });

  it('health 503 carries the reason', async () => {
    const a = await route(
      api({ health: () => ({ ok: false, reason: 'degraded' }) }),
      'GET',
      '/v1/health',
      '',
    );
    expect(a).toEqual({ status: 503, body: { ok: false, reason: 'degraded' } });
  });

  it('maps errors: forge trouble is 502, a refusal 400, anything else 500, all as JSON errors', async () => {
    const failing = (e: unknown) => api({ check: async () => Promise.reject(e) });
    const forge = await route(
      failing(new HephError('E_FORGE_UNREACHABLE', 'down', { hint: 'later' })),
      'POST',
      '/v1/update/check',
      '',
    );
    expect(forge).toEqual({
      status: 502,
      body: { error: { code: 'E_FORGE_UNREACHABLE', message: 'down', hint: 'later' } },
    });
    const usage = await route(failing(new HephError('E_USAGE', 'off')), 'POST', '/v1/update/check', '');
    expect(usage.status).toBe(400);
    const bug = await route(failing(new TypeError('x is undefined')), 'POST', '/v1/update/check', '');
    expect(bug).toMatchObject({ status: 500, body: { error: { code: 'E_INTERNAL' } } });
  });
});
