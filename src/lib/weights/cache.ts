/**
 * Pretrained weight files kept in the browser, so a checkpoint is downloaded (or picked) once and every
 * later run — offline too — reads it from here: the Web Cache API in pages and workers, one entry per file.
 */

/** What is known about a stored file. */
export interface CachedWeights {
  /** `hub:<id>/<file>` or `file:<name>`. */
  key: string;
  bytes: number;
  sha256: string;
  /** Where it was downloaded from (hub files). */
  url?: string;
  storedAt: number;
}

/** Where weight files are kept: the browser's Cache Storage, or memory (Node). */
export interface WeightCache {
  get(key: string): Promise<{ bytes: Uint8Array; info: CachedWeights } | undefined>;
  put(info: CachedWeights, bytes: Uint8Array): Promise<void>;
  /** Every stored file, by key. */
  list(): Promise<CachedWeights[]>;
  remove(key: string): Promise<void>;
}

/** The key of a hub file. @example hubKey('timm/resnet18.tv_in1k', 'model.safetensors') // 'hub:timm/resnet18.tv_in1k/model.safetensors' */
export const hubKey = (id: string, file: string) => `hub:${id}/${file}`;
/** The key of a picked file. */
export const fileKey = (name: string) => `file:${name}`;

export const WEIGHTS_CACHE = 'loupe-weights';
/** `.invalid` never resolves (RFC 2606): these URLs only name cache entries. */
const ENTRY_HOST = 'https://loupe-weights.invalid/';
const INFO_HEADER = 'x-loupe-weights';

/** Weight files in the Cache API (pages and workers share it), their facts in a header of each entry. */
export function browserWeightCache(): WeightCache {
  const open = () => caches.open(WEIGHTS_CACHE);
  const url = (key: string) => `${ENTRY_HOST}${encodeURIComponent(key)}`;
  const infoOf = (response: Response): CachedWeights | undefined => {
    const header = response.headers.get(INFO_HEADER);
    return header ? (JSON.parse(header) as CachedWeights) : undefined;
  };
  return {
    async get(key) {
      const response = await (await open()).match(url(key));
      const info = response && infoOf(response);
      if (!response || !info) return undefined;
      return { bytes: new Uint8Array(await response.arrayBuffer()), info };
    },
    async put(info, bytes) {
      const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength), [INFO_HEADER]: JSON.stringify(info) };
      await (await open()).put(url(info.key), new Response(bytes as BodyInit, { headers }));
    },
    async list() {
      const cache = await open();
      const infos: CachedWeights[] = [];
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        const info = response && infoOf(response);
        if (info) infos.push(info);
      }
      return infos.sort((a, b) => a.key.localeCompare(b.key));
    },
    async remove(key) {
      await (await open()).delete(url(key));
    },
  };
}

/** Weight files in memory: the CLI's (one process, one run) and the unit tests'. */
export function memoryWeightCache(): WeightCache {
  const entries = new Map<string, { bytes: Uint8Array; info: CachedWeights }>();
  return {
    get: async (key) => entries.get(key),
    put: async (info, bytes) => void entries.set(info.key, { bytes, info }),
    list: async () => [...entries.values()].map((e) => e.info).sort((a, b) => a.key.localeCompare(b.key)),
    remove: async (key) => void entries.delete(key),
  };
}
