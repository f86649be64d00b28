// systemd unit syntax, read back: sections and keys, quoted words, the Environment= lines. A
// leaf with no dependencies, so `heph status` can read the service's environment cheaply.

/**
 * Splits a systemd value into words, undoing the quoting and the %% doubling; `$$` is undone
 * only for command lines (ExecStart= expands variables, Environment= does not).
 */
export function splitSystemdWords(value: string, command = true): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i >= value.length) break;
    let word = '';
    const quote = value[i] === '"' || value[i] === "'" ? value[i] : null;
    if (quote) i++;
    for (; i < value.length; i++) {
      const c = value[i]!;
      if (quote ? c === quote : c === ' ' || c === '\t') {
        if (quote) i++;
        break;
      }
      if (c === '\\' && i + 1 < value.length) {
        i++;
        word += value[i];
        continue;
      }
      word += c;
    }
    const unspecified = word.replace(/%%/g, '%');
    words.push(command ? unspecified.replace(/\$\$/g, '$') : unspecified);
  }
  return words;
}

/** `[Section]` → key → every value in order (systemd keys may repeat). */
export function parseUnitSections(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      out[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const values = out[section] ?? {};
    out[section] = values;
    values[key] = [...(values[key] ?? []), line.slice(eq + 1).trim()];
  }
  return out;
}

/** The variables a unit's Environment= lines set (later lines win, as in systemd). */
export function unitEnvironment(sections: Record<string, Record<string, string[]>>): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const line of sections.Service?.Environment ?? []) {
    for (const word of splitSystemdWords(line, false)) {
      const eq = word.indexOf('=');
      if (eq > 0) environment[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return environment;
}
