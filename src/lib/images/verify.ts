import { decodeRgb, ImageDecodeError } from './decode';
import { imageStructureProblem, sniffImageType } from './structure';

/**
 * Why a file cannot serve as a photo, or `undefined` when it can: it is not a PNG, JPEG, WebP or GIF,
 * its container is cut short, or this browser cannot decode it. The Predict form asks before it shows
 * a preview, so a broken file is refused where it was picked, not at the model.
 * @example const problem = await imageFileProblem(file); // "is not a whole PNG image: it is truncated: …"
 */
export async function imageFileProblem(blob: Blob): Promise<string | undefined> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const type = sniffImageType(bytes);
  if (!type) return 'is not a PNG, JPEG, WebP or GIF image';
  const problem = imageStructureProblem(bytes, type);
  if (problem) return problem;
  try {
    // A full decode (to a few pixels): what the model's decoder will do with it.
    await decodeRgb(new Blob([bytes], { type }), 8);
    return undefined;
  } catch (error) {
    if (error instanceof ImageDecodeError) return `could not be decoded as an image (${error.reason.replace(/\.$/, '')})`;
    throw error;
  }
}
