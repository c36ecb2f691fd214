/**
 * Lexicon induction: a word's sentiment valence predicted from its pretrained word vector. A ridge regression
 * from GloVe vectors to the ratings of the words the lexicons do rate (and 0 for frequent words they leave
 * out) carries polarity to the words they never rated — "delicious", "tasty", "unwatchable" — which is what a
 * model trained on two review domains lacks on a third. Pure functions; `index.ts` feeds them the real data.
 */

export interface Embeddings {
  /** Words in order of frequency (most frequent first). */
  words: string[];
  /** `words.length × dims` values, row by row. */
  vectors: Float32Array;
  dims: number;
}

export interface InductionOptions {
  /** L2 penalty of the ridge regression (on the weights, not the bias). */
  lambda: number;
  /** Frequent unrated words taken as neutral (0), as a multiple of the number of rated words found. */
  neutralRatio: number;
  /** Only this many most frequent words are candidates for the neutral examples. */
  neutralPool: number;
}

export const DEFAULT_INDUCTION: InductionOptions = { lambda: 10, neutralRatio: 1.5, neutralPool: 20_000 };

/** Solves (AᵀA + λI′) w = Aᵀy for w by Gaussian elimination with partial pivoting (d ≈ 100: exact and instant). */
export function ridgeRegression(rows: Float32Array[], targets: number[], lambda: number): Float64Array {
  const dims = (rows[0]?.length ?? 0) + 1; // + bias
  const gram = Array.from({ length: dims }, () => new Float64Array(dims));
  const moment = new Float64Array(dims);
  const x = new Float64Array(dims);
  rows.forEach((row, n) => {
    x.set(row);
    x[dims - 1] = 1;
    for (let i = 0; i < dims; i++) {
      moment[i]! += x[i]! * targets[n]!;
      const line = gram[i]!;
      for (let j = 0; j < dims; j++) line[j]! += x[i]! * x[j]!;
    }
  });
  for (let i = 0; i < dims - 1; i++) gram[i]![i]! += lambda;
  for (let col = 0; col < dims; col++) {
    let pivot = col;
    for (let r = col + 1; r < dims; r++) if (Math.abs(gram[r]![col]!) > Math.abs(gram[pivot]![col]!)) pivot = r;
    [gram[col], gram[pivot]] = [gram[pivot]!, gram[col]!];
    [moment[col], moment[pivot]] = [moment[pivot]!, moment[col]!];
    const head = gram[col]!;
    if (head[col] === 0) throw new Error(`ridge regression is singular at column ${col}: give lambda > 0 or more rows`);
    for (let r = col + 1; r < dims; r++) {
      const line = gram[r]!;
      const factor = line[col]! / head[col]!;
      for (let c = col; c < dims; c++) line[c]! -= factor * head[c]!;
      moment[r]! -= factor * moment[col]!;
    }
  }
  const weights = new Float64Array(dims);
  for (let i = dims - 1; i >= 0; i--) {
    let sum = moment[i]!;
    for (let c = i + 1; c < dims; c++) sum -= gram[i]![c]! * weights[c]!;
    weights[i] = sum / gram[i]![i]!;
  }
  return weights;
}

/**
 * Valence in [−1, 1] for every word of `embeddings`, learned from `ratings` (word → valence in [−1, 1]).
 * @example induceValences(glove, new Map([['good', 0.6], ['bad', -0.8]]), DEFAULT_INDUCTION)
 */
export function induceValences(embeddings: Embeddings, ratings: ReadonlyMap<string, number>, options: InductionOptions = DEFAULT_INDUCTION): Float32Array {
  const { words, vectors, dims } = embeddings;
  const row = (i: number) => vectors.subarray(i * dims, (i + 1) * dims);
  const rows: Float32Array[] = [];
  const targets: number[] = [];
  words.forEach((word, i) => {
    const rating = ratings.get(word);
    if (rating === undefined) return;
    rows.push(row(i));
    targets.push(rating);
  });
  if (rows.length === 0) throw new Error('none of the rated words has a vector: check that the embeddings are lower-case English words');
  const neutral = Math.round(rows.length * options.neutralRatio);
  for (let i = 0, added = 0; i < Math.min(words.length, options.neutralPool) && added < neutral; i++) {
    if (ratings.has(words[i]!)) continue;
    rows.push(row(i));
    targets.push(0);
    added++;
  }
  const weights = ridgeRegression(rows, targets, options.lambda);
  const valences = new Float32Array(words.length);
  for (let i = 0; i < words.length; i++) {
    let sum = weights[dims]!;
    for (let d = 0; d < dims; d++) sum += weights[d]! * vectors[i * dims + d]!;
    valences[i] = Math.max(-1, Math.min(1, sum));
  }
  return valences;
}
