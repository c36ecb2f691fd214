import { ModelSourceError } from './source';

/**
 * Model files in Cache Storage: what transformers.js downloaded (keyed by the URL it fetched) and the
 * folders a user picked (keyed under FOLDER_HOST, a host that never resolves). One cache serves both,
 * so a model downloaded once, or picked once, loads offline afterwards.
 */
export const MODEL_CACHE = 'loupe-models';
/** `.invalid` never resolves (RFC 2606): a file missing from a picked folder fails fast instead of being fetched. */
export const FOLDER_HOST = 'https://local-folder.invalid/';

/** The files a transformers.js text model needs, for the chosen weights. */
export function requiredFiles(quantized: boolean): string[] {
  return ['config.json', 'tokenizer.json', quantized ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx'];
}

export const folderUrl = (name: string, file: string) => `${FOLDER_HOST}${encodeURIComponent(name)}/${file}`;

/**
 * The `env.customCache` transformers.js reads before fetching and writes after a download: the Web
 * Cache API's `match`/`put`, over MODEL_CACHE.
 */
export const modelCache = {
  async match(request: string): Promise<Response | undefined> {
    return (await caches.open(MODEL_CACHE)).match(request);
  },
  async put(request: string, response: Response): Promise<void> {
    await (await caches.open(MODEL_CACHE)).put(request, response);
  },
};

export interface PickedFile {
  /** Path inside the picked folder, e.g. `onnx/model.onnx` (a leading folder name is dropped). */
  path: string;
  blob: Blob;
}

/**
 * Stores the files of a folder the user picked (`<input webkitdirectory>` gives paths like
 * `twitter-roberta/onnx/model.onnx`) under `name`, replacing an earlier folder of that name.
 * Throws `ModelSourceError` naming the missing files when it is not a transformers.js model folder.
 */
export async function storeFolder(name: string, files: PickedFile[], quantized: boolean): Promise<string[]> {
  const paths = files.map((f) => f.path.replace(/\\/g, '/'));
  const prefix = commonFolder(paths);
  const entries = files.map((f, i) => ({ path: paths[i]!.slice(prefix.length), blob: f.blob }));
  const present = new Set(entries.map((e) => e.path));
  const missing = requiredFiles(quantized).filter((f) => !present.has(f));
  if (missing.length) {
    throw new ModelSourceError(
      `the folder "${name}" is not a transformers.js model folder: missing ${missing.join(', ')} ` +
        `(expected config.json, tokenizer.json and onnx/${quantized ? 'model_quantized.onnx' : 'model.onnx'}, as in the Xenova exports)`,
    );
  }
  await removeFolder(name);
  const cache = await caches.open(MODEL_CACHE);
  for (const entry of entries) {
    const type = entry.path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    await cache.put(folderUrl(name, entry.path), new Response(entry.blob, { headers: { 'content-type': type, 'content-length': String(entry.blob.size) } }));
  }
  return entries.map((e) => e.path).sort();
}

/** The stored files of a picked folder (paths inside it), sorted; empty when there is none. */
export async function folderFiles(name: string): Promise<string[]> {
  const prefix = folderUrl(name, '');
  const keys = await (await caches.open(MODEL_CACHE)).keys();
  return keys
    .map((request) => request.url)
    .filter((url) => url.startsWith(prefix))
    .map((url) => url.slice(prefix.length))
    .sort();
}

/** Names of the picked folders kept in this browser. */
export async function storedFolders(): Promise<string[]> {
  const keys = await (await caches.open(MODEL_CACHE)).keys();
  const names = new Set<string>();
  for (const { url } of keys) if (url.startsWith(FOLDER_HOST)) names.add(decodeURIComponent(url.slice(FOLDER_HOST.length).split('/')[0]!));
  return [...names].sort();
}

export async function removeFolder(name: string): Promise<void> {
  const cache = await caches.open(MODEL_CACHE);
  const prefix = folderUrl(name, '');
  for (const request of await cache.keys()) if (request.url.startsWith(prefix)) await cache.delete(request);
}

/** Throws when a picked folder lacks a file the chosen weights need. */
export async function checkFolder(name: string, quantized: boolean): Promise<void> {
  const present = new Set(await folderFiles(name));
  if (present.size === 0) throw new ModelSourceError(`no local folder named "${name}" is stored in this browser: pick it again in Settings → Text models`);
  const missing = requiredFiles(quantized).filter((f) => !present.has(f));
  if (missing.length) throw new ModelSourceError(`the local folder "${name}" lacks ${missing.join(', ')}; pick a folder with those files (or switch ${quantized ? 'to fp32' : 'to quantized'})`);
}

/** The folder name every path starts with (`webkitRelativePath` includes the picked folder), or ''. */
function commonFolder(paths: string[]): string {
  const first = paths[0]?.split('/')[0];
  if (!first || paths.some((p) => !p.startsWith(`${first}/`))) return '';
  return `${first}/`;
}
