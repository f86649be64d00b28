// Faults the loopback test forge can inject (test/helpers/forge-server.ts): what each one does,
// which requests it applies to, the seeded chaos menu, and serving asset bytes with a fault.
import type { ServerResponse } from 'node:http';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'garbage' }
  | { kind: 'slow'; ms: number }
  | { kind: 'truncate' }
  | { kind: 'tamper' };

/** A slow fault from chaos mode: long enough to matter with short test timeouts, short enough for CI. */
const CHAOS_SLOW_MS = 150;

export type Klass = 'api' | 'asset';
export interface Queued {
  fault: Fault;
  left: number;
  match: Klass | undefined;
}

export function defaultMatch(f: Fault): Klass | undefined {
  if (f.kind === 'garbage') return 'api';
  if (f.kind === 'truncate' || f.kind === 'tamper') return 'asset';
  return undefined;
}

/** A random fault for a request of this class, from a seeded PRNG (null: no fault this time). */
export function chaosFault(klass: Klass, chaos: { rand: () => number; rate: number } | null): Fault | null {
  if (!chaos || chaos.rand() >= chaos.rate) return null;
  const menu: Fault[] =
    klass === 'api'
      ? [
          { kind: 'status', status: 500 },
          { kind: 'status', status: 503 },
          { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
          { kind: 'garbage' },
          { kind: 'slow', ms: CHAOS_SLOW_MS },
        ]
      : [{ kind: 'status', status: 502 }, { kind: 'truncate' }, { kind: 'tamper' }];
  return menu[Math.floor(chaos.rand() * menu.length)]!;
}

/** Asset bytes with Content-Length; a truncate fault sends half and drops the connection. */
export function serveAsset(
  data: Buffer,
  fault: Fault | null,
  record: (status: number) => void,
  res: ServerResponse,
): void {
  record(200);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
  if (fault?.kind === 'truncate') {
    res.write(data.subarray(0, Math.floor(data.length / 2)));
    // Let the half reach the client, then cut the socket: Content-Length promised more.
    setTimeout(() => res.destroy(), 10);
    return;
  }
  if (fault?.kind === 'tamper' && data.length > 0) {
    const copy = Buffer.from(data);
    const at = Math.floor(copy.length / 2);
    copy[at] = copy[at]! ^ 0xff;
    res.end(copy);
    return;
  }
  res.end(data);
}
