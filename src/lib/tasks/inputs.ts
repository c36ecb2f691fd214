import type { ServingInput } from './types';

/**
 * The keys of a served input's images, in the order of the sample row's blobs (`inputToRow`): `image`,
 * or a pair's `front` and `back`. An `ImageDecodeError` from a batch names the blob (`image: 1`); this
 * names the key. No tfjs here: serving asks it in the page.
 * @example imageKeysOf({ front, back })[1] // 'back'
 */
export function imageKeysOf(input: ServingInput): ('image' | 'front' | 'back')[] {
  if ('text' in input) return [];
  return 'image' in input ? ['image'] : ['front', 'back'];
}
