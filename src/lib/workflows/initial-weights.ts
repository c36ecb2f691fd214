import type { LoupeDb } from '$lib/db/db';
import { sha256Hex } from '$lib/hash';
import type { ProgressCallback } from '$lib/progress';
import { ModelRegistry } from '$lib/registry/registry';
import { getSetting } from '$lib/settings';
import { loadTrainable } from '$lib/tasks/registry';
import { InitialWeightsError, type InitialWeightsResolver, type ResolvedInit } from '$lib/training/init';
import { TrainingCancelledError } from '$lib/training/loop';
import { fileKey, hubKey, type WeightCache } from '$lib/weights/cache';
import { checkWeightsHost, downloadVerified, HUB_REVISION, HUB_WEIGHTS_FILE, hubFileUrl, IMAGENET_WEIGHTS } from '$lib/weights/hub';
import { parseSafetensors, SafetensorsError } from '$models/weights/safetensors';

export interface InitialWeightsOptions {
  /** Where downloaded and picked files are kept. */
  cache: WeightCache;
  /** The hub's host; default the `weightsHost` setting. */
  host?: string;
  fetch?: typeof fetch;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Reads `file:<name>` from disk (the CLI); in the studio a picked file is in the cache under its name. */
  readFile?: (name: string) => Promise<Uint8Array>;
}

/**
 * What fetches a run's first weights in the studio and the CLI: a hub checkpoint from the cache, else
 * downloaded (with progress, checked, then cached: later runs and offline ones make no request); a
 * picked or named .safetensors file; or a registered version's model.
 * @example await runTrainJob(db, { ...spec, init: 'hub:timm/mobilenetv3_small_100.lamb_in1k' }, { backend, initialWeights: initialWeightsResolver(db, { cache }) });
 */
export function initialWeightsResolver(db: LoupeDb, options: InitialWeightsOptions): InitialWeightsResolver {
  return async (init) => {
    switch (init.kind) {
      case 'hub': {
        const key = hubKey(init.id, HUB_WEIGHTS_FILE);
        const host = checkWeightsHost(options.host ?? (await getSetting(db, 'weightsHost')));
        const url = hubFileUrl(host, init.id);
        let stored = await options.cache.get(key);
        if (!stored) {
          const label = `downloading ${init.id}`;
          const published = Object.values(IMAGENET_WEIGHTS).find((w) => w.id === init.id)?.sha256;
          let result;
          try {
            result = await downloadVerified(url, {
              fetch: options.fetch,
              signal: options.signal,
              sha256: published,
              onProgress: (done, total) => options.onProgress?.({ kind: 'progress', label, done, total: total ?? 0 }),
            });
          } catch (error) {
            if (options.signal?.aborted) throw new TrainingCancelledError();
            throw error;
          }
          // Parse before keeping it: a page that is not a checkpoint (a login wall, an error page) is not cached.
          checkedFile(result.bytes, `hub:${init.id} (${url})`);
          const info = { key, bytes: result.bytes.byteLength, sha256: result.sha256, url, storedAt: Date.now() };
          await options.cache.put(info, result.bytes);
          stored = { bytes: result.bytes, info };
        } else {
          options.onProgress?.({ kind: 'log', level: 'info', message: `using hub:${init.id} from this browser's storage (no download)` });
        }
        return checkpoint(stored.bytes, `hub:${init.id}`, {
          kind: 'hub',
          id: init.id,
          host: stored.info.url?.split(`${init.id}/resolve/`)[0] ?? host,
          file: HUB_WEIGHTS_FILE,
          revision: HUB_REVISION,
          sha256: stored.info.sha256,
          bytes: stored.bytes.byteLength,
        });
      }
      case 'file': {
        const bytes = options.readFile ? await options.readFile(init.name) : (await options.cache.get(fileKey(init.name)))?.bytes;
        if (!bytes) throw new InitialWeightsError(`no weights file named "${init.name}" is stored in this browser: pick it again on the Train page`);
        return checkpoint(bytes, `file:${init.name}`, { kind: 'file', name: baseName(init.name), sha256: await sha256Hex(bytes), bytes: bytes.byteLength });
      }
      case 'version': {
        const row = await new ModelRegistry(db).get(init.name, init.version);
        if (!row.modelJson || !row.shards) throw new InitialWeightsError(`${init.name} v${init.version} has no stored weights to start from`);
        const parent = await loadTrainable({ modelJson: row.modelJson, shards: row.shards });
        return { kind: 'version', parent, name: init.name, version: init.version, id: row.id };
      }
    }
  };
}

function checkedFile(bytes: Uint8Array, what: string) {
  try {
    return parseSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new InitialWeightsError(`${what} is not a safetensors checkpoint: ${error.message}`);
    throw error;
  }
}

function checkpoint(bytes: Uint8Array, what: string, source: Extract<ResolvedInit, { kind: 'checkpoint' }>['source']): ResolvedInit {
  return { kind: 'checkpoint', file: checkedFile(bytes, what), source };
}

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;
