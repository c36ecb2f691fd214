import { inspectImage } from '$lib/datasets/image-format';
import { decodeRgb } from '$lib/images/decode';
import type { ImageInput, ServingInput } from '$lib/serving/types';
import type { InputStatName } from './bins';

export type InputStats = Partial<Record<InputStatName, number>>;

/** Words of a text for the out-of-vocabulary rate: lower-cased runs of letters, digits and apostrophes. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
}

/** Share of a text's words missing from a vocabulary; undefined for a text without words. */
export function oovRate(text: string, vocabulary: ReadonlySet<string>): number | undefined {
  const list = words(text);
  if (list.length === 0) return undefined;
  return list.filter((word) => !vocabulary.has(word)).length / list.length;
}

/** Mean luma (Rec. 601) of RGB bytes, 0–1. */
export function meanLuma(rgb: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 2 < rgb.length; i += 3) sum += 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
  return rgb.length >= 3 ? sum / (rgb.length / 3) / 255 : 0;
}

/** Brightness is measured on a small copy: its mean barely moves with size, and decoding small is cheap. */
const BRIGHTNESS_SIZE = 16;

async function imageStats(images: ImageInput[]): Promise<InputStats> {
  let side = 0;
  let brightness = 0;
  let measured = 0;
  for (const image of images) {
    try {
      const { width, height } = inspectImage(image.bytes);
      side += Math.sqrt(width * height);
    } catch {
      // Serving already refused undecodable images; a header we cannot size just adds no size.
    }
    try {
      const rgb = await decodeRgb(new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: image.type }), BRIGHTNESS_SIZE);
      brightness += meanLuma(rgb.data);
      measured++;
    } catch {
      // Same: an image the browser cannot decode has no brightness to report.
    }
  }
  const bytes = images.reduce((sum, image) => sum + image.bytes.byteLength, 0);
  return {
    imageKb: bytes / 1024 / images.length,
    ...(side > 0 ? { imageSide: side / images.length } : {}),
    ...(measured > 0 ? { brightness: brightness / measured } : {}),
  };
}

/**
 * The input statistics monitoring compares with the reference: text length and out-of-vocabulary rate
 * (when the model's vocabulary is known), or image brightness, size in pixels and file size (averaged
 * over a coin's two sides).
 * @example await inputStatistics({ text: 'so good' }, new Set(['so'])) // { textLength: 7, oovRate: 0.5 }
 */
export async function inputStatistics(input: ServingInput, vocabulary?: ReadonlySet<string>): Promise<InputStats> {
  if ('text' in input) {
    const rate = vocabulary && vocabulary.size > 0 ? oovRate(input.text, vocabulary) : undefined;
    return { textLength: input.text.length, ...(rate !== undefined ? { oovRate: rate } : {}) };
  }
  return imageStats('front' in input ? [input.front, input.back] : [input.image]);
}

/** Statistics of a stored sample's text or images, in the same terms as a served input's. */
export async function sampleStatistics(sample: { text?: string; blobs?: Blob[] }, vocabulary?: ReadonlySet<string>): Promise<InputStats> {
  if (typeof sample.text === 'string') return inputStatistics({ text: sample.text }, vocabulary);
  const images = await Promise.all(
    (sample.blobs ?? []).map(async (blob) => ({ bytes: new Uint8Array(await blob.arrayBuffer()), type: (blob.type || 'image/png') as ImageInput['type'] })),
  );
  return images.length ? imageStats(images) : {};
}

