import { describeProgress, type ProgressEvent } from '$lib/progress';

/** Where a command writes: results to `out` (stdout), progress and messages to `err` (stderr). */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `err` is a terminal: a redrawn bar there, one line per step elsewhere (CI logs). */
  tty: boolean;
}

/** `[#######-------]  50%` */
export function bar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

/**
 * Turns the studio's progress events into a progress bar on stderr (stdout stays clean for results).
 * On a terminal the bar is redrawn in place; in a CI log every epoch and every finished stage is one line,
 * and batches are reported at most every `logEveryMs`.
 * @example const progress = new ProgressPrinter(io, 3); await runTrainJob(db, spec, { onProgress: progress.onEvent, … });
 */
export class ProgressPrinter {
  #io: CliIo;
  #epochs: number;
  #line = '';
  #lastLog = -Infinity;
  #now: () => number;
  #logEveryMs: number;

  constructor(io: CliIo, epochs: number, options: { now?: () => number; logEveryMs?: number } = {}) {
    this.#io = io;
    this.#epochs = epochs;
    this.#now = options.now ?? Date.now;
    this.#logEveryMs = options.logEveryMs ?? 5000;
  }

  readonly onEvent = (event: ProgressEvent): void => {
    switch (event.kind) {
      case 'batch': {
        const fraction = (event.epoch - 1 + event.batch / Math.max(1, event.batches)) / Math.max(1, this.#epochs);
        const loss = event.loss === undefined ? '' : ` loss ${event.loss.toFixed(4)}`;
        this.#draw(`${bar(fraction)} epoch ${event.epoch}/${this.#epochs} batch ${event.batch}/${event.batches}${loss}`, event.batch === event.batches);
        break;
      }
      case 'progress':
        this.#draw(`${bar(event.done / Math.max(1, event.total))} ${event.label} ${event.done}/${event.total}`, event.done === event.total);
        break;
      case 'epoch':
        this.#print(describeProgress({ ...event, epochs: this.#epochs }));
        break;
      case 'log':
        this.#print(`${event.level === 'info' ? '' : `${event.level}: `}${event.message}`);
        break;
      case 'fold':
        this.#print(describeProgress(event));
        break;
      case 'checkpoint':
        break;
      case 'done':
      case 'failed':
        this.finish();
        break;
    }
  };

  /** Ends a redrawn line so the next message starts on its own. */
  finish(): void {
    if (this.#io.tty && this.#line) this.#io.err('\n');
    this.#line = '';
  }

  #draw(line: string, final: boolean): void {
    if (this.#io.tty) {
      this.#io.err(`\r${line.padEnd(this.#line.length)}`);
      this.#line = line;
      return;
    }
    const now = this.#now();
    if (final || now - this.#lastLog >= this.#logEveryMs) {
      this.#lastLog = now;
      this.#io.err(`${line}\n`);
    }
  }

  #print(message: string): void {
    this.finish();
    this.#io.err(`${message}\n`);
  }
}
