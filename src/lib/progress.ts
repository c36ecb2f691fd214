/**
 * Everything a worker reports while it works, as one union. Workers call the `onProgress` callback
 * (passed with `Comlink.proxy`) with these; pages switch on `kind`.
 */
export type ProgressEvent =
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** Generic counted progress (ingest, evaluation, downloads). */
  | { kind: 'progress'; label: string; done: number; total: number }
  /** Cross-validation starts fold `index` (0-based) of `k`; the batch and epoch events that follow are that fold's. */
  | { kind: 'fold'; index: number; k: number }
  | { kind: 'batch'; epoch: number; batch: number; batches: number; loss?: number; samplesPerSec?: number }
  | { kind: 'epoch'; epoch: number; epochs: number; metrics: Record<string, number> }
  | { kind: 'checkpoint'; epoch: number; checkpointId: string }
  | { kind: 'done'; summary?: Record<string, number | string> }
  | { kind: 'failed'; reason: string };

export type ProgressKind = ProgressEvent['kind'];
export type ProgressCallback = (event: ProgressEvent) => void;

/** Narrows an event to one kind, e.g. `events.filter(isKind('epoch'))`. */
export function isKind<K extends ProgressKind>(kind: K) {
  return (event: ProgressEvent): event is Extract<ProgressEvent, { kind: K }> => event.kind === kind;
}

/** A one-line description of an event, for logs and screen readers. */
export function describeProgress(event: ProgressEvent): string {
  switch (event.kind) {
    case 'log':
      return event.message;
    case 'progress':
      return `${event.label}: ${event.done}/${event.total}`;
    case 'fold':
      return `fold ${event.index + 1} of ${event.k}`;
    case 'batch':
      return `epoch ${event.epoch} batch ${event.batch}/${event.batches}${event.loss === undefined ? '' : ` loss ${event.loss.toFixed(4)}`}`;
    case 'epoch':
      return `epoch ${event.epoch}/${event.epochs} ${Object.entries(event.metrics)
        .map(([k, v]) => `${k}=${v.toFixed(4)}`)
        .join(' ')}`;
    case 'checkpoint':
      return `checkpoint saved after epoch ${event.epoch}`;
    case 'done':
      return 'done';
    case 'failed':
      return `failed: ${event.reason}`;
  }
}
