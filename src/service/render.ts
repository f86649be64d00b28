// Turns templates/ into unit and plist text: every value goes in escaped for its format (systemd
// quoting and specifiers, the plist writer's XML escaping), then a stamp names heph's version
// and a hash of the rendered text, so `heph doctor` can tell an old or hand-edited unit.
import { createHash } from 'node:crypto';
import { build as buildPlist, parse as parsePlist, type PlistValue } from 'plist';
import { formatDuration } from '../config/duration.js';
import { HephError } from '../errors.js';
import { templateText } from '../platform/templates.js';
import { envName } from '../app/identity.js';
import { launchdLogFile, type ServiceNames } from '../app/service-names.js';
import { STOP_MARGIN_MS, type ServiceSpec } from './spec.js';

export const TEMPLATES = {
  userService: 'hephd.user.service',
  systemService: 'hephd.system.service',
  socket: 'hephd.socket',
  agentPlist: 'hephd.agent.plist',
  daemonPlist: 'hephd.daemon.plist',
} as const;
export type TemplateName = (typeof TEMPLATES)[keyof typeof TEMPLATES];

const STAMP_PLACEHOLDER = '{{STAMP}}';
/** Hex digits of SHA-256 kept in the stamp: enough to tell an edit, short enough to read. */
const STAMP_HASH_CHARS = 16;
const STAMP_RE = /heph-stamp version=(\S+) sha256=([0-9a-f]+)(?: render=([0-9a-f]+))?/;

/** A template's text (baked into the bundle; read from templates/ when run from source). */
export function loadTemplate(name: TemplateName): string {
  return templateText(name);
}

function refuseControl(value: string, what: string): void {
  if (/[\x00-\x1f\x7f]/.test(value)) {
    throw new HephError(
      'E_SERVICE',
      `${what} contains a control character (newline, tab, …): ${JSON.stringify(value)}`,
      {
        hint: 'use a path or value without control characters',
      },
    );
  }
}

/** A double-quoted systemd word: backslash and quote escaped, `%` specifiers doubled. */
function quoteWord(value: string, what: string): string {
  refuseControl(value, what);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/** An ExecStart= word: like quoteWord, and `$` doubled because ExecStart expands variables. */
export function execWord(value: string): string {
  return quoteWord(value, 'ExecStart').replace(/\$/g, '$$$$');
}

/** `Environment="K=V"`: Environment= expands specifiers but not variables. */
export function environmentLine(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new HephError('E_SERVICE', `environment variable name "${key}" cannot go into a unit`, {
      hint: 'unset it before `heph daemon install`',
    });
  }
  return `Environment=${quoteWord(`${key}=${value}`, `environment variable ${key}`)}`;
}

/** A bare path setting (EnvironmentFile=, ListenStream=): specifiers doubled, no line tricks. */
export function unitPath(value: string): string {
  refuseControl(value, 'path');
  if (value.endsWith('\\')) {
    throw new HephError('E_SERVICE', `path ${value} ends in a backslash (a line continuation in units)`, {
      hint: 'use a folder whose name does not end in a backslash',
    });
  }
  return value.replace(/%/g, '%%');
}

/** One `KEY="value"` line of an EnvironmentFile (systemd unquotes \\ and \"). */
export function envFileLine(key: string, value: string): string {
  refuseControl(value, key);
  return `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/`/g, '\\`')}"`;
}

/** The app's names, which every template may use ({{NAME}}, {{DAEMON}}, {{ENV_PREFIX}}, {{UNIT}}). */
function nameValues(n: ServiceNames): Record<string, string> {
  return { NAME: n.app.name, DAEMON: n.app.daemon, ENV_PREFIX: n.app.envPrefix, UNIT: n.unit };
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    if (name === 'STAMP') return whole;
    const v = values[name];
    if (v === undefined) throw new HephError('E_INTERNAL', `template placeholder {{${name}}} has no value`);
    return v;
  });
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, STAMP_HASH_CHARS);
}

/**
 * Replaces {{STAMP}} with the version, the hash of everything else and, when given, the render
 * fingerprint: what this heph's templates and code make of a fixed spec (renderFingerprint), so
 * doctor can tell "written by an older heph that writes the same unit" from "out of date".
 */
export function stamp(body: string, version: string, render?: string): string {
  if (!body.includes(STAMP_PLACEHOLDER)) throw new HephError('E_INTERNAL', 'template has no {{STAMP}}');
  const fingerprint = render ? ` render=${render}` : '';
  return body.replace(
    STAMP_PLACEHOLDER,
    `heph-stamp version=${version} sha256=${hashOf(body)}${fingerprint}`,
  );
}

export interface StampInfo {
  version: string;
  /** False when the text no longer hashes to its stamp: someone edited it. */
  intact: boolean;
  /** The render fingerprint of the heph that wrote it (absent in units written before it existed). */
  render?: string;
}

export function readStamp(text: string): StampInfo | null {
  const m = STAMP_RE.exec(text);
  if (!m) return null;
  const body = text.replace(m[0], STAMP_PLACEHOLDER);
  return { version: m[1]!, intact: hashOf(body) === m[2], ...(m[3] ? { render: m[3] } : {}) };
}

/** A fixed spec of the same kind (manager, scope, named user, socket): only heph's own text varies. */
function canonicalSpec(
  spec: Pick<ServiceSpec, 'names' | 'manager' | 'scope' | 'runAs' | 'socket'>,
): ServiceSpec {
  return {
    names: spec.names,
    manager: spec.manager,
    scope: spec.scope,
    runAs: spec.runAs === undefined ? undefined : 'heph',
    runAsGroup: 'heph',
    uid: 1000,
    node: '/usr/bin/node',
    launcher: '/heph/bin/hephd',
    environment: { PATH: '/usr/bin' },
    secretFile: '/heph/hephd.env',
    socket: spec.socket ? '/heph/run/hephd.sock' : undefined,
    drainTimeoutMs: 30_000,
    configDigest: '0'.repeat(16),
    logDir: '/heph/logs',
    home: '/heph',
    version: '0.0.0',
  };
}

/**
 * The hash of what this heph renders for a fixed spec of this kind: equal across versions whose
 * templates and rendering code make the same unit, whatever their version numbers.
 */
export function renderFingerprint(
  spec: Pick<ServiceSpec, 'names' | 'manager' | 'scope' | 'runAs' | 'socket'>,
  template?: string,
): string {
  const c = canonicalSpec(spec);
  return hashOf(c.manager === 'systemd' ? systemdServiceBody(c, template) : plistBody(c, template));
}

function timeoutStop(spec: ServiceSpec): string {
  return `${Math.ceil((spec.drainTimeoutMs + STOP_MARGIN_MS) / 1000)}s`;
}

export function renderSystemdService(spec: ServiceSpec, template?: string): string {
  return stamp(systemdServiceBody(spec, template), spec.version, renderFingerprint(spec, template));
}

function systemdServiceBody(spec: ServiceSpec, template?: string): string {
  const name = spec.scope === 'system' ? TEMPLATES.systemService : TEMPLATES.userService;
  const text = template ?? loadTemplate(name);
  const socketDeps = spec.socket
    ? `# The socket unit holds the listening socket across restarts; start it first.\nRequires=${spec.names.socketUnit}\nAfter=${spec.names.socketUnit}\n`
    : '';
  const body = fill(text, {
    ...nameValues(spec.names),
    SOCKET_DEPS: socketDeps,
    EXEC_START: [spec.node, spec.launcher].map(execWord).join(' '),
    DRAIN: formatDuration(spec.drainTimeoutMs),
    TIMEOUT_STOP: timeoutStop(spec),
    ENVIRONMENT: Object.entries(spec.environment)
      .map(([k, v]) => environmentLine(k, v))
      .join('\n'),
    ENV_FILE: unitPath(spec.secretFile),
    USER: spec.runAs ?? 'root',
    CONFIG_DIGEST: spec.configDigest,
  });
  return body;
}

export function renderSocketUnit(spec: ServiceSpec, template?: string): string {
  if (!spec.socket) throw new HephError('E_INTERNAL', 'renderSocketUnit without a socket path');
  // a system service running as a named user must own its socket, or its own clients (that
  // user's `heph status --system`) could not connect; root reaches it either way
  const named = spec.scope === 'system' && spec.runAs !== undefined && spec.runAs !== 'root';
  const owner = named ? `SocketUser=${spec.runAs}\nSocketGroup=${spec.runAsGroup ?? spec.runAs}\n` : '';
  const body = fill(template ?? loadTemplate(TEMPLATES.socket), {
    ...nameValues(spec.names),
    SOCKET_PATH: unitPath(spec.socket),
    SOCKET_OWNER: owner,
  });
  return stamp(body, spec.version);
}

/** The EnvironmentFile (systemd) or token file (launchd) text; holds the token, mode 0600. */
export function renderSecretFile(spec: ServiceSpec, token: string): string {
  const variable = envName(spec.names.app, 'FORGE_TOKEN');
  if (spec.manager === 'launchd') {
    refuseControl(token, variable);
    return `${token}\n`;
  }
  const { name, daemon } = spec.names.app;
  return `# ${name}: the forge token for ${daemon} (read by systemd, never logged)\n${envFileLine(variable, token)}\n`;
}

function sorted(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}

/** The plist: the template's fixed keys plus this install's values, written by the plist package. */
export function renderPlist(spec: ServiceSpec, template?: string): string {
  return stamp(plistBody(spec, template), spec.version, renderFingerprint(spec, template));
}

function plistBody(spec: ServiceSpec, template?: string): string {
  const name = spec.scope === 'system' ? TEMPLATES.daemonPlist : TEMPLATES.agentPlist;
  const base = parsePlist(template ?? loadTemplate(name)) as Record<string, PlistValue>;
  for (const [k, v] of Object.entries(spec.environment)) refuseControl(v, `environment variable ${k}`);
  const job: Record<string, PlistValue> = {
    Label: spec.names.launchdLabel,
    ProgramArguments: [spec.node, spec.launcher],
    ...base,
    EnvironmentVariables: sorted(spec.environment),
    StandardOutPath: launchdLogFile(spec.names, spec.scope, spec.home),
    StandardErrorPath: launchdLogFile(spec.names, spec.scope, spec.home),
    ExitTimeOut: Math.ceil((spec.drainTimeoutMs + STOP_MARGIN_MS) / 1000),
  };
  if (spec.runAs) job.UserName = spec.runAs;
  const xml = buildPlist(job, { pretty: true, indent: '  ' });
  // The stamp rides in an XML comment right after the prolog: launchd and parsers ignore it.
  // The config digest too: hephd reads its config once, so a changed config changes this file.
  const withMarker = xml.replace(
    /(<!DOCTYPE[^>]*>\n)/,
    `$1<!-- ${STAMP_PLACEHOLDER} -->\n<!-- heph-config sha256=${spec.configDigest} -->\n`,
  );
  return withMarker.endsWith('\n') ? withMarker : `${withMarker}\n`;
}
