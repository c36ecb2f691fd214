import { formatBytes } from '$lib/bytes';
import { imageStructureProblem, sniffImageType } from '$lib/images/structure';
import { RequestValidationError } from './errors';
import type { ImageInput } from './types';

export { sniffImageType };

const DATA_URL = /^data:([^,]*?),/;
const BASE64 = /^[A-Za-z0-9+/]*$/;

function describeStart(bytes: Uint8Array): string {
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return hex ? `it starts with bytes ${hex}` : 'it is empty';
}

/**
 * Checks that `bytes` hold an accepted, whole image no larger than `maxBytes`: a PNG, JPEG, WebP or GIF
 * whose container reaches its end (a truncated upload is refused here, before any model decodes it).
 * @throws RequestValidationError 413 when too large, 422 `invalid_image` when not such an image or cut short
 */
export function checkImageBytes(bytes: Uint8Array, field: string, maxBytes: number): ImageInput {
  if (bytes.byteLength > maxBytes) {
    throw new RequestValidationError(413, 'payload_too_large', field, `the image is ${formatBytes(bytes.byteLength)}; the limit is ${formatBytes(maxBytes)}`);
  }
  const type = sniffImageType(bytes);
  if (!type) throw new RequestValidationError(422, 'invalid_image', field, `is not a PNG, JPEG, WebP or GIF image (${describeStart(bytes)})`);
  const problem = imageStructureProblem(bytes, type);
  if (problem) throw new RequestValidationError(422, 'invalid_image', field, problem);
  return { bytes, type };
}

/**
 * Decodes a base64 image field (standard or URL-safe alphabet, padding optional, line breaks allowed,
 * an optional `data:image/…;base64,` prefix), checking its size before decoding and its format after.
 * @example decodeBase64Image(body.inputs[0].front_image_base64, 'inputs[0].front_image_base64', 10 << 20)
 */
export function decodeBase64Image(value: string, field: string, maxBytes: number): ImageInput {
  let text = value;
  const dataUrl = DATA_URL.exec(text);
  if (dataUrl) {
    if (!/;base64$/i.test(dataUrl[1] ?? '')) {
      throw new RequestValidationError(422, 'invalid_image', field, 'is a data: URL without ";base64"; send the image base64-encoded');
    }
    text = text.slice(dataUrl[0].length);
  }
  text = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  const unpadded = text.replace(/={1,2}$/, '');
  const padding = text.length - unpadded.length;
  if (unpadded.length === 0) throw new RequestValidationError(422, 'invalid_image', field, 'is empty; expected a base64-encoded image');
  if (!BASE64.test(unpadded) || unpadded.length % 4 === 1 || (padding > 0 && text.length % 4 !== 0)) {
    throw new RequestValidationError(422, 'invalid_image', field, 'is not valid base64');
  }
  const size = Math.floor((unpadded.length * 3) / 4);
  if (size > maxBytes) {
    throw new RequestValidationError(413, 'payload_too_large', field, `the image is ${formatBytes(size)}; the limit is ${formatBytes(maxBytes)}`);
  }
  const binary = atob(unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return checkImageBytes(bytes, field, maxBytes);
}

/** Bytes → base64, in chunks (a spread of millions of arguments overflows the stack). */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
