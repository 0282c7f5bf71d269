/**
 * Progress of long commands, on stderr so stdout stays clean for `--json` and
 * for `export -`: a bar (cli-progress) when stderr is a terminal, otherwise a
 * plain line every few seconds and at the end; nothing with `--quiet`.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `done` of `total` units; `detail` is shown beside the bar. */
  update(done: number, total: number, detail?: string): void;
  /** Draws the final state and releases the terminal line. */
  stop(): void;
}

const PLAIN_EVERY_MS = 2000;

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function createProgress(title: string, options: { quiet: boolean; unit?: string; stream?: NodeJS.WriteStream }): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'memories';
  if (options.quiet) return { update: () => undefined, stop: () => undefined };
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: `${title} [{bar}] {percentage}% | {value}/{total} ${unit} | {detail} | ETA {eta_formatted}`,
      barCompleteChar: '=',
      barIncompleteChar: ' ',
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
      formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? formatCount(v) : String(v)),
    });
    let started = false;
    return {
      update(done, total, detail = '') {
        if (!started) {
          bar.start(Math.max(total, done), done, { detail });
          started = true;
        } else {
          bar.setTotal(Math.max(total, done));
          bar.update(done, { detail });
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  let state: { done: number; total: number; detail: string } | undefined;
  let printed: string | undefined;
  const print = () => {
    if (!state) return;
    const pct = state.total > 0 ? ` (${Math.min(100, Math.floor((state.done / state.total) * 100))}%)` : '';
    const line = `${title}: ${formatCount(state.done)}/${formatCount(state.total)} ${unit}${pct}${state.detail ? ` ${state.detail}` : ''}`;
    if (line !== printed) stream.write(`${line}\n`);
    printed = line;
  };
  return {
    update(done, total, detail = '') {
      state = { done, total, detail };
      const now = Date.now();
      if (now - last >= PLAIN_EVERY_MS) {
        last = now;
        print();
      }
    },
    stop: print,
  };
}
