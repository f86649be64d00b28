export function build(opts?: {
  version?: string;
  outdir?: string;
  quiet?: boolean;
}): Promise<{ outdir: string; version: string }>;
