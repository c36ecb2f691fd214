/**
 * NB-SVM's features (Wang & Manning, "Baselines and Bigrams", ACL 2012): which word n-grams — and, optionally,
 * character n-grams of each word, as fastText takes them — a text has (binarised: present or not), and the
 * log-count ratio of each n-gram per class, fitted on training texts. N-grams are hashed into buckets like
 * fastText's (no vocabulary to store); bucket 0 is padding.
 */
import { fnv1a, tokenize } from '$models/text/features';

export interface NbFeatureConfig {
  /** Hash buckets (ratio rows besides padding). */
  buckets: number;
  /** Longest word n-gram (2 = words and bigrams). */
  wordNgrams: number;
  /**
   * Character n-gram lengths inside `<word>` ([0, 0] or absent: none). They let an unseen form of a seen
   * word ("disappointing" after "disappointed") carry its ratio. Models saved before this setting have none.
   */
  charNgrams?: readonly [number, number];
  /** Distinct n-grams kept per text, in reading order; the rest are dropped. */
  maxFeatures: number;
}

export class NbFeaturesError extends Error {
  override name = 'NbFeaturesError';
}

/**
 * The word n-grams of a text, then the character n-grams of its words, each once, in reading order (the
 * strings fastText hashes too).
 * @example nbNgrams('so good', 2, [3, 3]) // ['so', 'good', 'w2:so good', 'c:<so', 'c:so>', 'c:<go', 'c:goo', 'c:ood', 'c:od>']
 */
export function nbNgrams(text: string, wordNgrams: number, charNgrams: readonly [number, number] = [0, 0]): string[] {
  const words = tokenize(text);
  const seen = new Set<string>();
  for (let n = 1; n <= wordNgrams; n++) {
    for (let i = 0; i + n <= words.length; i++) seen.add(n === 1 ? words[i]! : `w${n}:${words.slice(i, i + n).join(' ')}`);
  }
  const [minN, maxN] = charNgrams;
  if (minN > 0) {
    for (const word of words) {
      const marked = `<${word}>`;
      for (let n = minN; n <= maxN; n++) for (let i = 0; i + n <= marked.length; i++) seen.add(`c:${marked.slice(i, i + n)}`);
    }
  }
  return [...seen];
}

/** The bucket (1…buckets) an n-gram hashes to. */
export const nbBucket = (ngram: string, buckets: number): number => 1 + (fnv1a(ngram) % buckets);

/** The distinct buckets of a text's n-grams, at most `maxFeatures` of them (two n-grams may share one). */
export function nbFeatureIds(text: string, config: NbFeatureConfig): number[] {
  const ids = new Set<number>();
  for (const ngram of nbNgrams(text, config.wordNgrams, config.charNgrams)) {
    if (ids.size >= config.maxFeatures) break;
    ids.add(nbBucket(ngram, config.buckets));
  }
  return [...ids];
}

/**
 * Log-count ratios of every bucket for every class, one class against the rest (row-major
 * [buckets + 1, classes]): r_c = log((p_c / ‖p_c‖₁) / (q_c / ‖q_c‖₁)), with p_c = α + the number of texts
 * of class c that have the n-gram and q_c = α + the number of other texts that have it. As in the paper
 * the norms run over the training vocabulary — the buckets some training text has — and a bucket no
 * training text has (and padding) gets ratio 0, so it says nothing. With two classes r_1 = −r_0.
 * @example logCountRatios([[1, 2], [2, 3]], [0, 1], { classes: 2, buckets: 3, alpha: 1 })
 */
export function logCountRatios(docs: readonly (readonly number[])[], targets: readonly number[], options: { classes: number; buckets: number; alpha: number }): Float32Array {
  const { classes, buckets, alpha } = options;
  if (docs.length !== targets.length) throw new NbFeaturesError(`${docs.length} texts but ${targets.length} labels`);
  if (!(alpha > 0)) throw new NbFeaturesError(`alpha must be > 0, got ${alpha}`);
  const rows = buckets + 1;
  const counts = new Float64Array(rows * classes);
  const total = new Float64Array(rows);
  docs.forEach((ids, d) => {
    const c = targets[d]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new NbFeaturesError(`text ${d + 1}: class index ${c} is not one of 0…${classes - 1}`);
    for (const id of ids) {
      counts[id * classes + c]! += 1;
      total[id]! += 1;
    }
  });
  let vocabulary = 0;
  const classSum = new Float64Array(classes);
  let allSum = 0;
  for (let id = 1; id < rows; id++) {
    if (total[id] === 0) continue;
    vocabulary++;
    allSum += total[id]!;
    for (let c = 0; c < classes; c++) classSum[c]! += counts[id * classes + c]!;
  }
  const ratios = new Float32Array(rows * classes);
  for (let c = 0; c < classes; c++) {
    const pNorm = alpha * vocabulary + classSum[c]!;
    const qNorm = alpha * vocabulary + (allSum - classSum[c]!);
    for (let id = 1; id < rows; id++) {
      if (total[id] === 0) continue;
      const p = alpha + counts[id * classes + c]!;
      const q = alpha + total[id]! - counts[id * classes + c]!;
      ratios[id * classes + c] = Math.log(p / pNorm) - Math.log(q / qNorm);
    }
  }
  return ratios;
}
