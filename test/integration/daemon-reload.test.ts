// Live reload of a real hephd: SIGHUP and POST /v1/config/reload apply a valid config without a
// restart (same pid; mode, interval, forge take effect; config.reloaded audited), refuse an
// invalid one (a bad window, a textfile in a missing folder, a bad mode) while the old stays in
// force (config.refused), and `heph config set` / `heph daemon reload` tell the running daemon.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { runHeph } from '../helpers/cli.js';
import { plainProbeRoot, type RunningDaemon, startDaemon, waitFor } from '../helpers/daemon.js';
import { notifyBed } from '../helpers/notify-bed.js';

const bed = notifyBed('heph-reload-');

const audit = () => readAudit(join(bed.s.home, 'state', 'audit.jsonl')).reverse();
const events = (name: string) => audit().filter((e) => e.event === name);

async function status(d: RunningDaemon) {
  return (await d.call('GET', '/v1/status')).body;
}

function writeConfig(body: string): void {
  bed.s.writeConfig(
    `[update]\n${body}\n\n[forge]\nkind = "github"\nurl = "${bed.forge.url}"\nrepo = "${bed.forge.repo}"\n`,
  );
}

describe('live reload of a real hephd', () => {
  it('SIGHUP applies a valid config without a restart and refuses an invalid one, keeping the old', async () => {
    writeConfig('mode = "off"');
    const d = await bed.start();
    const before = await status(d);
    expect(before.mode).toBe('off');
    expect(bed.forge.requests).toHaveLength(0);

    // off -> notify: the daemon builds its forge client and can be asked to check, same process.
    writeConfig('mode = "notify"\ninterval = "10m"\nwindows = ["Mon-Fri 02:00-04:00 Europe/Berlin"]');
    process.kill(d.pid, 'SIGHUP');
    await waitFor('config.reloaded', () => events('config.reloaded').length === 1);
    expect(events('config.reloaded')[0]).toMatchObject({
      by: 'signal',
      changed: ['update.mode', 'update.interval', 'update.windows'],
    });
    const after = await status(d);
    expect(after).toMatchObject({ pid: d.pid, mode: 'notify', startedAt: before.startedAt });
    expect(after.config.digest).not.toBe(before.config.digest);
    expect(after.restartWindow.window).toBe('Mon-Fri 02:00-04:00 Europe/Berlin');
    const human = await runHeph(['status'], bed.s.env);
    expect(human.stdout).toMatch(/window: {6}(next|open until) .*\(Mon-Fri 02:00-04:00 Europe\/Berlin\)/);
    const check = await d.call('POST', '/v1/update/check');
    expect(check.status).toBe(200);
    expect(check.body.candidate).toBe('0.1.1');

    // Invalid, three ways: each refused and audited, the notify config stays in force.
    const bad: Array<[string, RegExp]> = [
      ['mode = "sometimes"', /update\.mode/],
      ['mode = "notify"\nwindows = ["Mon-Fri 02:00-02:00 UTC"]', /update\.windows\.0.*zero length/],
      [
        `mode = "notify"\n[metrics]\ntextfile = "${bed.s.home}/missing/heph.prom"`,
        /metrics\.textfile.*does not exist/,
      ],
    ];
    for (const [i, [text, says]] of bad.entries()) {
      writeConfig(text);
      process.kill(d.pid, 'SIGHUP');
      await waitFor('config.refused', () => events('config.refused').length === i + 1);
      expect(events('config.refused')[i]!.error).toMatch(says);
    }
    const still = await status(d);
    expect(still).toMatchObject({ pid: d.pid, mode: 'notify', config: after.config });
    expect(d.proc.exitCode).toBeNull();
    // The socket answers an invalid config with 400 and the key, too.
    const refused = await d.call('POST', '/v1/config/reload');
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('E_CONFIG');
    expect(refused.body.error.message).toContain('metrics.textfile');
  });

  it('a SIGHUP while hephd is still starting does not end it: the reload runs once it is up', async () => {
    writeConfig('mode = "off"');
    // The start lock held by the test: hephd reads its config, logs the scale warning, then waits
    // for the lock, before it binds its socket or logs `started`.
    const lock = join(bed.s.home, 'run', 'hephd.start.lock');
    mkdirSync(lock, { recursive: true });
    const d = await startDaemon({
      home: bed.s.home,
      noWait: true,
      env: { HEPH_DEV_PROBE_ROOT: plainProbeRoot(), HEPH_DEV_SCHEDULE_SCALE: '0.5' },
    });
    try {
      await waitFor('the scale warning', () => d.output().includes('every scheduler delay is multiplied'));
      expect(d.output()).not.toContain('hephd started');
      writeConfig('mode = "notify"'); // after hephd read the file: the queued reload must see it
      process.kill(d.pid, 'SIGHUP');
      rmSync(lock, { recursive: true });
      await waitFor('config.reloaded', async () => {
        if (d.proc.exitCode !== null || d.proc.signalCode !== null) {
          throw new Error(`hephd ended (${d.proc.exitCode ?? d.proc.signalCode}):\n${d.output()}`);
        }
        return events('config.reloaded').length === 1;
      });
      expect(events('config.reloaded')[0]).toMatchObject({ by: 'signal', changed: ['update.mode'] });
      expect(await status(d)).toMatchObject({ pid: d.pid, mode: 'notify' });
    } finally {
      await d.stop('SIGKILL');
    }
  });

  it('`heph config set` and `config validate` refuse what the daemon would refuse (the forge client), before writing', async () => {
    writeConfig('mode = "off"');
    const d = await bed.start();
    const file = join(bed.s.home, 'config.toml');
    const missing = join(bed.s.home, 'no-such-token');
    // mode off builds no forge client: a missing token file is accepted, here as by the daemon
    const first = await runHeph(['config', 'set', 'forge.token_file', missing], bed.s.env);
    expect(first.exitCode, first.stderr).toBe(0);
    const written = readFileSync(file, 'utf8');
    const set = await runHeph(['config', 'set', 'update.mode', 'notify'], bed.s.env);
    expect(set.exitCode).toBe(78);
    expect(set.stderr).toContain('forge.token_file');
    expect(set.stderr).not.toContain('was written');
    expect(readFileSync(file, 'utf8')).toBe(written);
    expect(events('config.refused')).toHaveLength(0); // the daemon was never asked
    expect((await status(d)).mode).toBe('off');

    // The same file by hand: validate says what the daemon's reload would say.
    bed.s.writeConfig(written.replace('mode = "off"', 'mode = "notify"'));
    const validate = await runHeph(['config', 'validate'], bed.s.env);
    expect(validate.exitCode).toBe(78);
    expect(validate.stderr).toContain('forge.token_file');
    const reload = await runHeph(['daemon', 'reload'], bed.s.env);
    expect(reload.exitCode).toBe(78);
    expect(reload.stderr).toContain('forge.token_file');
  });

  it('`heph config set` and `heph daemon reload` (no service manager: over the socket) tell the daemon', async () => {
    writeConfig('mode = "notify"');
    const d = await bed.start();
    const set = await runHeph(['config', 'set', 'update.interval', '2h', '--json'], bed.s.env);
    expect(set.exitCode, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      changed: true,
      daemon: { running: true, reloaded: true, changed: ['update.interval'] },
    });
    const human = await runHeph(['config', 'set', 'update.jitter', '0.2'], bed.s.env);
    expect(human.stdout).toContain('hephd reloaded the config');
    expect(events('config.reloaded').map((e) => e.by)).toEqual(['socket', 'socket']);

    const reload = await runHeph(['daemon', 'reload', '--json'], bed.s.env);
    expect(reload.exitCode, reload.stderr).toBe(0);
    expect(JSON.parse(reload.stdout)).toMatchObject({ reloaded: true, changed: [] });

    // A hand edit the daemon refuses: exit 78 naming the key; the daemon runs on, unchanged.
    const file = join(bed.s.home, 'config.toml');
    const good = readFileSync(file, 'utf8');
    bed.s.writeConfig(good.replace('[update]', '[update]\nwindows = ["Mon-Fri 02:00-04:00 Mars/Base"]'));
    const no = await runHeph(['daemon', 'reload'], bed.s.env);
    expect(no.exitCode).toBe(78);
    expect(no.stderr).toContain('update.windows.0');
    expect(no.stderr).toContain('Mars/Base');
    expect((await status(d)).pid).toBe(d.pid);
  });
});
