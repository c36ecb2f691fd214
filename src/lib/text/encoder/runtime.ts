import { AutoModel, AutoModelForSequenceClassification, AutoTokenizer, env } from '@xenova/transformers';
import ortWasm from 'onnxruntime-web/dist/ort-wasm.wasm?url';
import ortWasmSimd from 'onnxruntime-web/dist/ort-wasm-simd.wasm?url';
import { checkFolder, FOLDER_HOST, modelCache, requiredFiles } from './model-files';
import { DEFAULT_PATH_TEMPLATE, describeSource, HUB_HOST, modelKey, ModelSourceError, validateSource, type ModelRef } from './source';

/** Bytes of one model file arriving (from the network, the cache or a picked folder). */
export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number;
}

export type DownloadCallback = (progress: DownloadProgress) => void;

const inBrowser = typeof caches !== 'undefined' && !(typeof process !== 'undefined' && process.release?.name === 'node');

/**
 * transformers.js defaults that do not fit an offline studio, fixed once: ONNX Runtime's wasm files come
 * from this build (not a CDN, huggingface/transformers.js#685), one thread (threads need cross-origin
 * isolation), downloads go to our Cache Storage through `customCache`, and nothing is read from the
 * page's own `/models/` path (a static host would answer it with the app's index.html).
 */
function configureOnce(): void {
  const wasm = env.backends.onnx.wasm as { wasmPaths?: unknown; numThreads?: number } | undefined;
  if (wasm && inBrowser) {
    const base = globalThis.location?.href;
    wasm.wasmPaths = { 'ort-wasm.wasm': new URL(ortWasm, base).href, 'ort-wasm-simd.wasm': new URL(ortWasmSimd, base).href };
    wasm.numThreads = 1;
  }
  if (inBrowser) {
    env.useBrowserCache = false;
    env.useCustomCache = true;
    env.customCache = modelCache;
  }
}
configureOnce();

/**
 * Points transformers.js's global `env` at one source and returns the id to load. `env` is global, so
 * loads run one at a time (`serialized`).
 */
async function pointAt(ref: ModelRef): Promise<string> {
  const source = validateSource(ref.source);
  switch (source.kind) {
    case 'hub':
    case 'host':
      env.allowLocalModels = false;
      env.allowRemoteModels = true;
      env.remoteHost = source.kind === 'hub' ? HUB_HOST : source.host.replace(/\/*$/, '/');
      env.remotePathTemplate = source.kind === 'host' && source.pathTemplate ? source.pathTemplate : DEFAULT_PATH_TEMPLATE;
      return source.modelId;
    case 'folder':
      await checkFolder(source.name, ref.quantized);
      // Every file is in the cache under FOLDER_HOST; a file that is not fails to fetch at once.
      env.allowLocalModels = false;
      env.allowRemoteModels = true;
      env.remoteHost = FOLDER_HOST;
      env.remotePathTemplate = '{model}/';
      return encodeURIComponent(source.name);
    case 'path': {
      if (inBrowser) throw new ModelSourceError('a path on disk can only be used in Node; in the browser pick a local folder');
      const path = source.path.replace(/[\\/]+$/, '');
      const cut = path.lastIndexOf('/');
      env.allowLocalModels = true;
      env.allowRemoteModels = false;
      env.localModelPath = cut >= 0 ? path.slice(0, cut + 1) : './';
      return path.slice(cut + 1);
    }
  }
}

let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(task: () => Promise<T>): Promise<T> {
  const next = queue.then(task, task);
  queue = next.catch(() => undefined);
  return next;
}

/** A transformers.js failure as a message that says what to do. */
function explain(ref: ModelRef, error: unknown): ModelSourceError {
  if (error instanceof ModelSourceError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const hint =
    ref.source.kind === 'folder' || ref.source.kind === 'path'
      ? `the folder needs ${requiredFiles(ref.quantized).join(', ')}`
      : /fetch|network|Could not locate/i.test(reason)
        ? 'the model could not be downloaded: check the model id and the connection (once downloaded it is kept for offline use), or pick a local folder in Settings → Text models'
        : 'check the model files';
  return new ModelSourceError(`could not load ${describeSource(ref)}: ${reason} — ${hint}`);
}

export interface LoadedTextModel<M> {
  key: string;
  tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  model: M;
  config: { id2label?: Record<string, string>; hidden_size?: number; max_position_embeddings?: number };
}

type Role = 'classifier' | 'encoder';
const loading = new Map<string, Promise<LoadedTextModel<unknown>>>();

/**
 * Loads (once per model and role) a tokenizer and its ONNX model with transformers.js: the sequence
 * classifier (`logits`) or the bare encoder (`last_hidden_state`). A failed load is forgotten, so a retry
 * loads again. `onDownload` hears each file's bytes as they arrive.
 */
export function loadTextModel(ref: ModelRef, role: Role, onDownload?: DownloadCallback): Promise<LoadedTextModel<unknown>> {
  const key = `${role}|${modelKey(ref)}`;
  let promise = loading.get(key);
  if (!promise) {
    promise = serialized(async () => {
      try {
        const id = await pointAt(ref);
        const options = {
          quantized: ref.quantized,
          progress_callback: (p: { status: string; file?: string; loaded?: number; total?: number }) => {
            if (p.status === 'progress' && p.file && onDownload) onDownload({ file: p.file, loaded: p.loaded ?? 0, total: p.total ?? 0 });
          },
        };
        const tokenizer = await AutoTokenizer.from_pretrained(id, options);
        const model = await (role === 'classifier' ? AutoModelForSequenceClassification : AutoModel).from_pretrained(id, options);
        const config = (model as unknown as { config: LoadedTextModel<unknown>['config'] }).config;
        return { key, tokenizer, model, config };
      } catch (error) {
        throw explain(ref, error);
      }
    });
    loading.set(key, promise);
    promise.catch(() => loading.delete(key));
  }
  return promise;
}

/** Frees every loaded ONNX session (the next use loads again). */
export async function unloadTextModels(): Promise<void> {
  const all = [...loading.values()];
  loading.clear();
  for (const promise of all) {
    const loaded = await promise.catch(() => undefined);
    await (loaded?.model as { dispose?: () => Promise<unknown> } | undefined)?.dispose?.();
  }
}
