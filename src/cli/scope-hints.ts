// Hints printed for a system install carry `--system` (and `--user NAME` for `daemon install`),
// so a person can paste them as they are: one rewrite of every `heph …` command quoted in
// backticks, applied where a --system command prints (context.ts), never in each message.

/** Commands that take no --system: the daemon itself and the release tools. */
const NO_SCOPE = /^(daemon run|release)\b/;

export interface Scope {
  system: boolean;
  /** The system unit's User= (not root), for `heph daemon install` hints. */
  runAs?: string;
}

/** One backticked command with the scope flags it lacks, after its words and before nothing else. */
function scoped(command: string, scope: Scope): string {
  if (NO_SCOPE.test(command) || /(^|\s)--system(\s|$)/.test(command)) return command;
  let flags = ' --system';
  if (/^daemon install\b/.test(command) && scope.runAs && !/(^|\s)--user\s/.test(command)) {
    flags += ` --user ${scope.runAs}`;
  }
  return `${command}${flags}`;
}

/** `text` with every backticked `heph …` command given the flags of `scope`. */
export function withScope(text: string, scope: Scope): string {
  if (!scope.system) return text;
  return text.replace(
    /`heph ([^`]+)`/g,
    (_whole, command: string) => `\`heph ${scoped(command.trim(), scope)}\``,
  );
}

/** The `User=` of a system unit's text, when it names someone other than root. */
export function unitRunAs(unitText: string | undefined): string | undefined {
  const m = /^\s*User=(\S+)\s*$/m.exec(unitText ?? '');
  return m && m[1] !== 'root' ? m[1] : undefined;
}
