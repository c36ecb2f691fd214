import { sha256Hex } from '$lib/hash';
import type { BackboneKind } from '$models/backbones/index';

/**
 * Pretrained backbone weights on a Hugging Face–style hub: `<host>/<id>/resolve/<revision>/<file>`. The
 * host is a setting (`weightsHost`), so a mirror or a local server that serves the same layout works as
 * the hub does.
 */

export const DEFAULT_WEIGHTS_HOST = 'https://huggingface.co/';
/** The file a `hub:<id>` start reads: the safetensors checkpoint timm publishes for each model. */
export const HUB_WEIGHTS_FILE = 'model.safetensors';
export const HUB_REVISION = 'main';

/** A default ImageNet checkpoint of one backbone. */
export interface HubWeights {
  id: string;
  /** Approximate size as the hub lists it, for the Train page ("about 10 MB"). */
  approxBytes: number;
  /** Published sha256 of the file, where known; downloads are checked against it. */
  sha256?: string;
  /** Why this checkpoint (what it was trained on, and how it matches our architecture). */
  note: string;
}

/**
 * ImageNet weights for each backbone, in timm naming (the loader reads it). ResNet18's are torchvision's own
 * weights republished by timm (`tv_in1k`), tensor for tensor the same names and shapes as torchvision's.
 * MobileNetV3-Small is timm's `mobilenetv3_small_100` (trained with LAMB), whose tensors map one to one onto
 * ours except its `conv_head`/`classifier` (ignored: we pool before them); it was trained with BatchNorm
 * epsilon 1e-5, which the model takes from the checkpoint.
 */
export const IMAGENET_WEIGHTS: Record<BackboneKind, HubWeights> = {
  resnet18: { id: 'timm/resnet18.tv_in1k', approxBytes: 46_800_000, note: "torchvision's ImageNet-1k weights (timm naming)" },
  'mobilenetv3-small': { id: 'timm/mobilenetv3_small_100.lamb_in1k', approxBytes: 10_200_000, note: "timm's ImageNet-1k weights" },
};

/**
 * The URL of a hub file.
 * @example hubFileUrl('https://huggingface.co', 'timm/resnet18.tv_in1k') // 'https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors'
 */
export function hubFileUrl(host: string, id: string, file = HUB_WEIGHTS_FILE, revision = HUB_REVISION): string {
  return `${host.replace(/\/+$/, '')}/${id}/resolve/${revision}/${file}`;
}

export class WeightsDownloadError extends Error {
  override name = 'WeightsDownloadError';
}

/** Checks a weights host setting; the error says what is expected. */
export function checkWeightsHost(host: string): string {
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new WeightsDownloadError(`the weights host must be an http(s) URL such as ${DEFAULT_WEIGHTS_HOST}, got ${JSON.stringify(host)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WeightsDownloadError(`the weights host must be an http(s) URL, got ${host}`);
  return host;
}

export interface DownloadOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Bytes received so far and the total when the server says it (Content-Length). */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** The file's published sha256, when known. */
  sha256?: string;
}

/**
 * Downloads a file in chunks, reporting progress, and checks it: the byte count the server announced, and
 * the sha256 where one is published. Returns the bytes and their sha256.
 * @throws WeightsDownloadError naming the URL and what did not match (an AbortError when cancelled)
 */
export async function downloadVerified(url: string, options: DownloadOptions): Promise<{ bytes: Uint8Array; sha256: string }> {
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new WeightsDownloadError(`could not reach ${url} (${error instanceof Error ? error.message : String(error)}): check the weights host in Settings, or pick a .safetensors file instead`);
  }
  if (!response.ok) throw new WeightsDownloadError(`GET ${url} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  const header = response.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  options.onProgress?.(0, total);
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      options.onProgress?.(loaded, total);
    }
  } else {
    const all = new Uint8Array(await response.arrayBuffer());
    chunks.push(all);
    loaded = all.byteLength;
    options.onProgress?.(loaded, total);
  }
  if (total !== undefined && loaded !== total) throw new WeightsDownloadError(`${url}: received ${loaded} bytes, but the server announced ${total} (the download was cut short)`);
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const sha256 = await sha256Hex(bytes);
  if (options.sha256 && sha256 !== options.sha256) throw new WeightsDownloadError(`${url}: sha256 ${sha256} differs from the published ${options.sha256}`);
  return { bytes, sha256 };
}
