// Reporting a state file that was set aside as corrupt (src/platform/state-file.ts), once: an
// audit event `state.corrupt`, and a log line (the daemon) or a warning on stderr (a command,
// whose logger is silent). `heph doctor` lists the set-aside files for as long as they are there.
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { SetAside } from '../platform/state-file.js';
import { appendAudit } from './log.js';

/** The `onSetAside` of readJsonState for this audit log and logger. */
export function corruptReporter(auditFile: string, logger?: Logger): (info: SetAside) => void {
  return ({ file, setAside, reason, at }) => {
    const what = `${file} is unusable (${reason}); ${setAside ? `set aside as ${basename(setAside)}` : 'it could not be moved aside'} and started afresh`;
    const live = logger && logger.level !== 'silent' ? logger : undefined;
    appendAudit(
      auditFile,
      { time: new Date(at).toISOString(), event: 'state.corrupt', version: null, file, setAside, reason },
      live,
      null, // paths and a parse error: nothing in it names a command or the daemon
    );
    if (live) live.warn({ file, setAside, reason }, what);
    else process.stderr.write(`warning: ${what}\n`);
  };
}
