// pidAlive (src/platform/process.ts): the check the daemon's one-instance rule and the install
// lock rely on to tell a dead holder from a live one, against real processes.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pidAlive } from '../../src/platform/process.js';

describe('pidAlive', () => {
  it('is true for a running process and false once it has exited and been reaped', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const pid = child.pid!;
    expect(pidAlive(pid)).toBe(true);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(pidAlive(pid)).toBe(false);
  });

  it('is true for a process of another user (EPERM), when not root', () => {
    // pid 1 always exists; a non-root caller may not signal it and gets EPERM, root gets success
    expect(pidAlive(1)).toBe(true);
  });
});
