/**
 * A compact Tree-structured Parzen Estimator (Bergstra et al., "Algorithms for Hyper-Parameter
 * Optimization", NeurIPS 2011), the sampler behind hyperopt and Optuna's default. Past trials are split
 * into the best `gamma` fraction and the rest; each dimension gets a Parzen density for both groups
 * (truncated Gaussians on [0, 1] for numeric dimensions, smoothed counts for categorical ones), and
 * the candidate drawn from the good density with the highest good/bad density ratio is proposed.
 * Dimensions are treated independently, as in hyperopt. All randomness comes from `random`.
 */

export type Dimension = { kind: 'numeric' } | { kind: 'categorical'; choices: number };

/** One finished trial: a numeric dimension's coordinate in [0, 1], a categorical one's choice index. */
export interface Observation {
  x: number[];
  /** Lower is better (negate a metric to maximise). */
  loss: number;
}

export interface TpeOptions {
  /** Fraction of trials that count as good. */
  gamma?: number;
  /** Trials drawn at random before the model is used. */
  startup?: number;
  /** Candidates drawn from the good density per proposal. */
  candidates?: number;
}

const PRIOR_WEIGHT = 1;
const MIN_BANDWIDTH = 0.03;

/** Proposes the next point; uniform at random until `startup` observations exist. */
export function proposeTpe(dimensions: Dimension[], observations: Observation[], random: () => number, options: TpeOptions = {}): number[] {
  const { gamma = 0.25, startup = 4, candidates = 24 } = options;
  const usable = observations.filter((o) => Number.isFinite(o.loss));
  if (usable.length < Math.max(2, startup)) return dimensions.map((d) => drawUniform(d, random));
  const sorted = [...usable].sort((a, b) => a.loss - b.loss);
  const goodCount = Math.max(1, Math.ceil(gamma * sorted.length));
  const good = sorted.slice(0, goodCount);
  const bad = sorted.slice(goodCount);
  const models = dimensions.map((d, i) => {
    const goodX = good.map((o) => o.x[i]!);
    const badX = bad.map((o) => o.x[i]!);
    return d.kind === 'numeric' ? { good: parzen(goodX), bad: parzen(badX) } : { good: categorical(goodX, d.choices), bad: categorical(badX, d.choices) };
  });
  let best: number[] = [];
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const x = models.map((m) => m.good.sample(random));
    const score = models.reduce((sum, m, i) => sum + Math.log(m.good.density(x[i]!)) - Math.log(m.bad.density(x[i]!)), 0);
    if (score > bestScore) {
      bestScore = score;
      best = x;
    }
  }
  return best;
}

function drawUniform(d: Dimension, random: () => number): number {
  return d.kind === 'numeric' ? random() : Math.min(d.choices - 1, Math.floor(random() * d.choices));
}

interface Density {
  density(x: number): number;
  sample(random: () => number): number;
}

/**
 * Gaussians truncated to [0, 1] at each point, plus a uniform prior (weight 1) so unexplored regions
 * keep some mass. Bandwidth by Scott's rule, floored so a cluster of equal points stays searchable.
 */
function parzen(points: number[]): Density {
  const n = points.length;
  const mean = points.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const std = Math.sqrt(points.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n));
  const h = Math.min(1, Math.max(MIN_BANDWIDTH, 1.06 * (std || 0.25) * Math.pow(Math.max(1, n), -0.2)));
  const mass = points.map((mu) => normalCdf((1 - mu) / h) - normalCdf(-mu / h));
  const total = n + PRIOR_WEIGHT;
  return {
    density(x) {
      let sum = PRIOR_WEIGHT; // the uniform prior's density on [0, 1] is 1
      for (let i = 0; i < n; i++) sum += normalPdf((x - points[i]!) / h) / h / mass[i]!;
      return sum / total;
    },
    sample(random) {
      const pick = random() * total;
      if (pick < PRIOR_WEIGHT || n === 0) return random();
      const mu = points[Math.min(n - 1, Math.floor(pick - PRIOR_WEIGHT))]!;
      // Rejection keeps the draw inside [0, 1]; the truncated mass is ≥ ~0.5 * erf, so few tries suffice.
      for (let attempt = 0; attempt < 32; attempt++) {
        const x = mu + h * gaussian(random);
        if (x >= 0 && x <= 1) return x;
      }
      return Math.min(1, Math.max(0, mu));
    },
  };
}

/** Choice frequencies smoothed by a uniform prior (weight 1 spread over the choices). */
function categorical(indices: number[], choices: number): Density {
  const counts = new Array<number>(choices).fill(PRIOR_WEIGHT / choices);
  for (const i of indices) counts[i] = (counts[i] ?? 0) + 1;
  const total = indices.length + PRIOR_WEIGHT;
  return {
    density: (x) => (counts[x] ?? 0) / total,
    sample(random) {
      let r = random() * total;
      for (let i = 0; i < choices; i++) {
        r -= counts[i]!;
        if (r < 0) return i;
      }
      return choices - 1;
    },
  };
}

function gaussian(random: () => number): number {
  // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1].
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const normalPdf = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/** Standard normal CDF through erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
