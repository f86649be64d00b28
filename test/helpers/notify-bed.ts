// The bed the daemon lifecycle and drain tests share: per test, a scratch HEPH_HOME and a loopback
// GitHub forge offering one newer release; daemons started here are SIGKILLed by pid afterwards.
import { afterEach, beforeEach } from 'vitest';
import { type Scratch, scratch } from './cli.js';
import { plainProbeRoot, type RunningDaemon, startDaemon } from './daemon.js';
import { startForge, type TestForge } from './forge-server.js';

export interface NotifyBed {
  /** This test's scratch home (new for each test). */
  readonly s: Scratch;
  /** This test's forge (new for each test). */
  readonly forge: TestForge;
  /** notify mode without the scale knob: the first timed check is ≥ 30 s away, so only tests ask. */
  config(restart?: string): void;
  /** A real hephd in the scratch home, seeing no supervisor or container. */
  start(): Promise<RunningDaemon>;
}

/** Registers the bed's beforeEach/afterEach; call once at the top of a test file. */
export function notifyBed(prefix: string): NotifyBed {
  let s: Scratch | undefined;
  let forge: TestForge | undefined;
  const running: RunningDaemon[] = [];
  beforeEach(async () => {
    s = scratch(prefix);
    forge = await startForge({ kind: 'github' });
    forge.publish({ tag: 'v0.1.1', assets: [{ name: 'heph-0.1.1.tgz', content: 'x' }] });
  });
  afterEach(async () => {
    for (const d of running.splice(0)) await d.stop('SIGKILL').catch(() => {});
    await forge?.close();
    s?.cleanup();
  });
  const bed: NotifyBed = {
    get s() {
      return s!;
    },
    get forge() {
      return forge!;
    },
    config(restart = '') {
      bed.s.writeConfig(
        `[update]\nmode = "notify"\n\n[forge]\nkind = "github"\nurl = "${bed.forge.url}"\nrepo = "${bed.forge.repo}"\n\n[restart]\n${restart}`,
      );
    },
    async start() {
      const d = await startDaemon({ home: bed.s.home, env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot() } });
      running.push(d);
      return d;
    },
  };
  return bed;
}
