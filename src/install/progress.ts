// A one-line download progress bar for a terminal: rewritten in place with \r on stderr, at most
// a few times a second, and finished with a newline. Nothing is drawn when not on a TTY.

/** Redraws more often than this only burn CPU on a fast download. */
const REDRAW_MS = 100;
const BAR_WIDTH = 30;

export interface ProgressBar {
  update(received: number, total: number | null): void;
  done(): void;
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}

export function renderProgress(label: string, received: number, total: number | null): string {
  if (total === null || total <= 0) return `${label} ${mib(received)}`;
  const frac = Math.min(1, received / total);
  const filled = Math.round(frac * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
  return `${label} [${bar}] ${String(Math.round(frac * 100)).padStart(3)}% ${mib(received)}/${mib(total)}`;
}

export function createProgressBar(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  label: string,
): ProgressBar {
  let last = 0;
  let drawn = false;
  let latest: [number, number | null] = [0, null];
  const draw = () => {
    stream.write(`\r${renderProgress(label, latest[0], latest[1])}\x1b[K`);
    drawn = true;
  };
  return {
    update(received, total) {
      latest = [received, total];
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - last < REDRAW_MS && received !== total) return;
      last = now;
      draw();
    },
    done() {
      if (!stream.isTTY) return;
      if (!drawn) draw();
      stream.write('\n');
    },
  };
}
