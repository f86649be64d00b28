// What an embedding app's serve(ctx) gets (docs/api.md "serve"), and the in-flight set the drain
// waits for. The daemon aborts ctx.signal when it starts draining, then waits for the promises
// handed to ctx.track, up to restart.drain_timeout: only the work in flight, not the app's future.
import type { Logger } from 'pino';

export interface ServeContext<AppConfig = Record<string, unknown>> {
  /** The app's name (`acme`). */
  readonly name: string;
  /** The running version. */
  readonly version: string;
  /** The config file's `[app]` table, untouched by heph (`{}` when there is none). */
  readonly config: AppConfig;
  /** pino, with the daemon's level and redaction; lines carry `app: name`. */
  readonly logger: Logger;
  /** Aborted when the daemon starts draining (self-update, stop, restart): refuse new work then. */
  readonly signal: AbortSignal;
  /** The drain waits for `work` (up to restart.drain_timeout); returns `work` for chaining. */
  track<T>(work: Promise<T>): Promise<T>;
}

/** An app's work inside the daemon. A rejection (at start or later) ends the daemon with exit 1. */
export type ServeFn<AppConfig = Record<string, unknown>> = (ctx: ServeContext<AppConfig>) => unknown;

/** The promises handed to ctx.track that have not settled yet. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  readonly track = <T>(work: Promise<T>): Promise<T> => {
    const entry = Promise.resolve(work).then(
      () => undefined,
      () => undefined, // the app handles its own failures; the drain only waits
    );
    this.pending.add(entry);
    void entry.then(() => this.pending.delete(entry));
    return work;
  };

  get size(): number {
    return this.pending.size;
  }

  /** Resolves once nothing is in flight, including work tracked while waiting. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
