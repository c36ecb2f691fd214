/**
 * Valences induced from GloVe word vectors (`scripts/lexicon`): a rating for the 50,000 most frequent English
 * words, learned from the words VADER and Bing Liu's opinion lexicon rate. Shipped as its own chunk
 * (`induced-valence.json`, ~0.5 MB) and loaded on first use, so pages that never featurise text do not pay
 * for it.
 */

/** The file `npm run lexicon:induce` writes: words and their valences, one signed byte each. */
export interface InducedValenceFile {
  about: string;
  /** Valence = byte / scale, in [−1, 1]. */
  scale: number;
  /** The words, separated by single spaces (no word contains one). */
  words: string;
  /** Base64 of one signed byte per word, in the order of `words`. */
  valences: string;
}

export const INDUCED_VALENCE_SCALE = 127;

/** Rounds valences to signed bytes and packs them with their words. */
export function encodeInducedValence(words: readonly string[], valences: Float32Array, about: string): InducedValenceFile {
  if (words.length !== valences.length) throw new Error(`${words.length} words but ${valences.length} valences`);
  const bad = words.find((w) => w === '' || /\s/.test(w));
  if (bad !== undefined) throw new Error(`word ${JSON.stringify(bad)} is empty or holds whitespace`);
  const bytes = Int8Array.from(valences, (v) => Math.round(Math.max(-1, Math.min(1, v)) * INDUCED_VALENCE_SCALE));
  let binary = '';
  for (const byte of new Uint8Array(bytes.buffer)) binary += String.fromCharCode(byte);
  return { about, scale: INDUCED_VALENCE_SCALE, words: words.join(' '), valences: btoa(binary) };
}

export class InducedValence {
  readonly #valence = new Map<string, number>();

  constructor(file: InducedValenceFile) {
    const words = file.words.split(' ');
    const binary = atob(file.valences);
    if (binary.length !== words.length) throw new Error(`induced valence file: ${words.length} words but ${binary.length} valences`);
    words.forEach((word, i) => this.#valence.set(word, ((binary.charCodeAt(i) << 24) >> 24) / file.scale));
  }

  get size(): number {
    return this.#valence.size;
  }

  /** Valence in [−1, 1] of a lower-case word, or undefined when the word is not among the induced ones. */
  get(word: string): number | undefined {
    return this.#valence.get(word);
  }
}

let loading: Promise<InducedValence> | undefined;

/** The shipped table, loaded once. */
export function loadInducedValence(): Promise<InducedValence> {
  loading ??= import('./induced-valence.json').then((m) => new InducedValence(m.default as InducedValenceFile));
  return loading;
}
