// Loading the trusted root: the one shipped with heph (./trusted-root.json, see shipped-root.ts
// for its sources) or the file `install.trusted_root` names, as Sigstore's TrustedRoot JSON or
// as `gh attestation trusted-root` prints it (one root per line, merged here).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readTrustedRootFile, type TrustedRootJson } from './trusted-root-file.js';
import shipped from './trusted-root.json' with { type: 'json' };

export {
  MAX_TRUSTED_ROOT_BYTES,
  parseTrustedRoot,
  readTrustedRootFile,
  type TrustedRootJson,
} from './trusted-root-file.js';

export function shippedTrustedRoot(): TrustedRootJson {
  return shipped as TrustedRootJson;
}

/** The trusted root to verify against: `path` when set (`~/` = `home`), else the shipped one. */
export function loadTrustedRoot(path: string, home = homedir()): TrustedRootJson {
  const p = path.trim();
  if (p === '') return shippedTrustedRoot();
  const file = p === '~' || p.startsWith('~/') ? join(home, p.slice(1)) : p;
  return readTrustedRootFile(file);
}
