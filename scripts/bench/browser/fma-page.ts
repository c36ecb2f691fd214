// The page of scripts/bench/relaxed-browser.ts: `window.fma(op, args)` runs an op in fma-worker.ts; `demo` installs the demo data.
import * as Comlink from 'comlink';
import type { IngestApi } from '$lib/workers/types';

// `?pool=N` sizes XNNPACK's pool in the worker (its name carries it: the pool is fixed when tfjs starts there).
const pool = new URLSearchParams(location.search).get('pool') ?? '';
const worker = new Worker(new URL('./fma-worker.ts', import.meta.url), { type: 'module', name: `pool=${pool}` });
let n = 0;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
worker.onmessage = (e: MessageEvent<{ id: number; result?: unknown; error?: string; log?: string }>) => {
  if (e.data.log) return console.log(e.data.log);
  const p = pending.get(e.data.id)!;
  pending.delete(e.data.id);
  if (e.data.error) p.reject(new Error(e.data.error));
  else p.resolve(e.data.result);
};
async function demo(): Promise<boolean> {
  const ingest = new Worker(new URL('../../../workers/ingest.ts', import.meta.url), { type: 'module' });
  await Comlink.wrap<IngestApi>(ingest).installDemoData('fma-demo', Comlink.proxy(() => {}));
  ingest.terminate();
  return true;
}
Object.assign(window, {
  fma: (op: string, args: unknown) => (op === 'demo' ? demo() : new Promise((resolve, reject) => {
    const id = ++n;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args });
  })),
});
