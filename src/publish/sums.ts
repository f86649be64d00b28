// Writing SHA256SUMS (the reading side is install/checksums.ts): one folder can hold several
// assets, so a release adds or replaces its own line and keeps the others.

/** `<64 hex><two spaces or space-star><file name>`, as sha256sum writes in text or binary mode. */
const SUM_LINE = /^[0-9a-fA-F]{64} [ *](.+)$/;

/**
 * `text` with `name`'s line replaced by `<hex>  <name>` (added at the end when it had none); other
 * lines are kept as they were, blank lines dropped. The result ends with a newline.
 */
export function updateSums(text: string, name: string, hex: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '')
    .filter((l) => SUM_LINE.exec(l)?.[1] !== name);
  lines.push(`${hex}  ${name}`);
  return `${lines.join('\n')}\n`;
}
