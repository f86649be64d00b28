export function build(opts?: {
  version?: string;
  outdir?: string;
  quiet?: boolean;
}): Promise<{ outdir: string; version: string }>;

/** The library's declarations into `outdir`/types (tsc -p tsconfig.build.json). */
export function buildTypes(outdir?: string): void;
