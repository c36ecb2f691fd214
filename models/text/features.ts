/**
 * fastText-style features: words, word n-grams and character n-grams, hashed into a fixed number of
 * buckets (Joulin et al., "Bag of Tricks for Efficient Text Classification", 2016). Id 0 is padding.
 */
export interface TextFeatureConfig {
  /** Number of hash buckets (embedding rows besides padding). */
  buckets: number;
  /** Longest word n-gram (1 = words only). */
  wordNgrams: number;
  /** Character n-gram lengths inside `<word>`; [0, 0] turns them off. */
  charNgrams: [number, number];
  /** Features kept per text; the rest are dropped (texts are short). */
  maxFeatures: number;
}

export const DEFAULT_TEXT_FEATURES: TextFeatureConfig = {
  buckets: 1 << 16,
  wordNgrams: 2,
  charNgrams: [3, 5],
  maxFeatures: 256,
};

/** Lower-cased words and runs of `!?` (they carry sentiment), in order. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'’]*|[!?]+/gu) ?? [];
}

/** FNV-1a, 32-bit: fast, stable across platforms, and what fastText itself uses for hashing. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** All feature strings of a text, before hashing. */
export function featureStrings(text: string, config: TextFeatureConfig): string[] {
  const words = tokenize(text);
  const features: string[] = [];
  for (let n = 1; n <= config.wordNgrams; n++) {
    for (let i = 0; i + n <= words.length; i++) features.push(n === 1 ? words[i]! : `w${n}:${words.slice(i, i + n).join(' ')}`);
  }
  const [minN, maxN] = config.charNgrams;
  if (minN > 0) {
    for (const word of words) {
      const marked = `<${word}>`;
      for (let n = minN; n <= maxN; n++) for (let i = 0; i + n <= marked.length; i++) features.push(`c:${marked.slice(i, i + n)}`);
    }
  }
  return features;
}

/** Bucket ids (1…buckets) of a text's features, padded with 0 to `maxFeatures`, and their averaging weights. */
export function featurize(text: string, config: TextFeatureConfig): { ids: Int32Array; weights: Float32Array; count: number } {
  const ids = new Int32Array(config.maxFeatures);
  const weights = new Float32Array(config.maxFeatures);
  const features = featureStrings(text, config).slice(0, config.maxFeatures);
  for (let i = 0; i < features.length; i++) ids[i] = 1 + (fnv1a(features[i]!) % config.buckets);
  for (let i = 0; i < features.length; i++) weights[i] = 1 / features.length;
  return { ids, weights, count: features.length };
}
