// Questions about other processes by pid: whether one is alive. Used by the one-daemon check
// (instance.ts) and the install lock (lock.ts) to tell a dead holder from a live one.

/**
 * Whether a process with this pid exists. Signal 0 checks without delivering anything; EPERM
 * means it exists but belongs to another user, which is still alive (a pid file or lock of a
 * daemon running as someone else must not be taken over).
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
