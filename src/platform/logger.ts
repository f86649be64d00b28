// The logger: JSON lines (pino) to stdout, one readable line per record on a TTY. Secrets are
// redacted by key and by value, so a token can never reach a log even inside an error message.
// An embedding app's lines name the app, not heph (renameForApp, docs/embedding.md).
import { pino, type Logger } from 'pino';
import { type AppNames, renameForApp } from '../app/identity.js';

export type { Logger };

const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["private-token"]',
  '*.headers.authorization',
];

/** Values registered here are replaced by "[redacted]" wherever they appear in a log line. */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function redactText(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

function prettyLine(json: string): string {
  try {
    const {
      level,
      time,
      msg,
      pid: _pid,
      hostname: _h,
      ...rest
    } = JSON.parse(json) as Record<string, unknown>;
    const t = new Date(time as number).toISOString().slice(11, 19);
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${t} ${(LEVEL_NAMES[level as number] ?? String(level)).padEnd(5)} ${msg ?? ''}${extra}\n`;
  } catch {
    return json;
  }
}

export interface LoggerOptions {
  level?: string;
  /** Defaults to stdout. */
  stream?: NodeJS.WritableStream;
  pretty?: boolean;
  /**
   * The app the lines are written for: messages and hints are written in heph's names (`heph
   * update resume`, `hephd`, `HEPH_HOME`) and shown in this app's. Defaults to heph's (as is).
   */
  app?: AppNames;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.stream ?? process.stdout;
  const pretty = opts.pretty ?? Boolean((out as NodeJS.WriteStream).isTTY);
  const app = opts.app;
  const destination = {
    write(line: string) {
      const redacted = secrets.size ? redactText(line) : line;
      // On the serialized line: the names only ever turn into other names ([a-z0-9-], [A-Z0-9_]),
      // never into a quote or a backslash, so the JSON stays whole.
      const clean = app ? renameForApp(redacted, app) : redacted;
      out.write(pretty ? prettyLine(clean) : clean);
    },
  };
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    destination,
  );
}

/** A logger that drops everything (one-shot commands that print for humans instead). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
