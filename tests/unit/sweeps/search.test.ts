import { describe, expect, it } from 'vitest';
import { validateSweep, type SweepDefinition, type SweepTrial } from '../../../src/lib/sweeps/definition';
import { bayesPoint, gridPoint, gridSize, plannedTrials, proposeTrial, randomPoint } from '../../../src/lib/sweeps/search';
import { mulberry32 } from '../../../src/lib/random';
import { proposeTpe } from '../../../src/lib/sweeps/tpe';

const define = (input: Record<string, unknown>, task = 'image-classification'): SweepDefinition =>
  validateSweep({ task, metric: { name: 'val_accuracy', goal: 'maximize' }, ...input }).definition;

describe('grid search', () => {
  const grid = define({
    method: 'grid',
    parameters: {
      optimizer: { values: ['adam', 'sgd'] },
      dim: { min: 8, max: 10 },
      learningRate: { distribution: 'q_uniform', min: 0.1, max: 0.3, q: 0.1 },
      epochs: { value: 2 },
    },
  }, 'sentiment');

  it('enumerates exactly the product of the parameter values, each point once', () => {
    expect(gridSize(grid)).toBe(2 * 3 * 3 * 1);
    expect(plannedTrials(grid)).toBe(18);
    const points = Array.from({ length: 18 }, (_, i) => proposeTrial(grid, i, [])!);
    const expected = ['adam', 'sgd'].flatMap((optimizer) => [8, 9, 10].flatMap((dim) => [0.1, 0.2, 0.3].map((learningRate) => ({ optimizer, dim, learningRate, epochs: 2 }))));
    const key = (p: object) => JSON.stringify(Object.entries(p).sort());
    expect(new Set(points.map(key))).toEqual(new Set(expected.map(key)));
    expect(new Set(points.map(key)).size).toBe(18);
    expect(proposeTrial(grid, 18, [])).toBeUndefined();
  });

  it('walks the product like itertools.product over sorted names (last name fastest)', () => {
    expect(gridPoint(grid, 0)).toEqual({ dim: 8, epochs: 2, learningRate: 0.1, optimizer: 'adam' });
    expect(gridPoint(grid, 1)).toEqual({ dim: 8, epochs: 2, learningRate: 0.1, optimizer: 'sgd' });
    expect(gridPoint(grid, 2)).toEqual({ dim: 8, epochs: 2, learningRate: 0.2, optimizer: 'adam' });
  });

  it('stops at run_cap', () => {
    const capped = define({ method: 'grid', run_cap: 5, parameters: { dim: { min: 8, max: 20 } } }, 'sentiment');
    expect(plannedTrials(capped)).toBe(5);
    expect(proposeTrial(capped, 5, [])).toBeUndefined();
  });
});

const space = {
  learningRate: { distribution: 'log_uniform_values', min: 0.001, max: 0.1 },
  batchSize: { distribution: 'int_uniform', min: 4, max: 9 },
  inputSize: { distribution: 'q_uniform', min: 32, max: 128, q: 32 },
  dropout: { distribution: 'log_uniform', min: -4.6, max: -0.7 }, // W&B: e^-4.6 … e^-0.7
  optimizer: { values: ['adam', 'sgd'] },
  epochs: { value: 3 },
};

function checkBounds(point: Record<string, unknown>): void {
  const lr = point.learningRate as number;
  expect(lr).toBeGreaterThanOrEqual(0.001);
  expect(lr).toBeLessThanOrEqual(0.1);
  expect(Number.isInteger(point.batchSize) && (point.batchSize as number) >= 4 && (point.batchSize as number) <= 9).toBe(true);
  expect([32, 64, 96, 128]).toContain(point.inputSize);
  expect(point.dropout as number).toBeGreaterThanOrEqual(Math.exp(-4.6) - 1e-12);
  expect(point.dropout as number).toBeLessThanOrEqual(Math.exp(-0.7) + 1e-12);
  expect(['adam', 'sgd']).toContain(point.optimizer);
  expect(point.epochs).toBe(3);
}

describe('random search', () => {
  const random = define({ method: 'random', run_cap: 400, seed: 5, parameters: space });

  it('respects every bound and distribution', () => {
    const points = Array.from({ length: 400 }, (_, i) => randomPoint(random, i));
    points.forEach(checkBounds);
    // log_uniform_values: half the draws fall below the geometric mean of the bounds (0.01).
    const below = points.filter((p) => (p.learningRate as number) < 0.01).length / points.length;
    expect(below).toBeGreaterThan(0.42);
    expect(below).toBeLessThan(0.58);
    // int_uniform: every integer of [4, 9] shows up, roughly equally often.
    const counts = [4, 5, 6, 7, 8, 9].map((d) => points.filter((p) => p.batchSize === d).length);
    expect(Math.min(...counts)).toBeGreaterThan(40);
    expect(new Set(points.map((p) => p.inputSize))).toEqual(new Set([32, 64, 96, 128]));
    // log_uniform (natural-log bounds): half the draws fall below e^((-4.6 - 0.7) / 2).
    const lowDropout = points.filter((p) => (p.dropout as number) < Math.exp(-2.65)).length / points.length;
    expect(lowDropout).toBeGreaterThan(0.42);
    expect(lowDropout).toBeLessThan(0.58);
  });

  it('is reproducible by seed, and a different seed draws differently', () => {
    const again = define({ method: 'random', run_cap: 400, seed: 5, parameters: space });
    const other = define({ method: 'random', run_cap: 400, seed: 6, parameters: space });
    const draw = (d: SweepDefinition) => Array.from({ length: 20 }, (_, i) => randomPoint(d, i));
    expect(draw(again)).toEqual(draw(random));
    expect(draw(other)).not.toEqual(draw(random));
  });
});

describe('bayesian search (TPE)', () => {
  const bayes = define({ method: 'bayes', run_cap: 30, seed: 3, parameters: space });
  /** A made-up objective: best at learningRate 0.02, batch size 7, sgd. */
  const score = (p: Record<string, unknown>) =>
    -Math.abs(Math.log10(p.learningRate as number) - Math.log10(0.02)) - Math.abs((p.batchSize as number) - 7) / 5 - (p.optimizer === 'sgd' ? 0 : 0.5);

  function simulate(definition: SweepDefinition, n: number): SweepTrial[] {
    const trials: SweepTrial[] = [];
    for (let i = 0; i < n; i++) {
      const params = proposeTrial(definition, i, trials)!;
      trials.push({ index: i, params, status: 'completed', metric: score(params), runId: `r${i}` });
    }
    return trials;
  }

  it('respects every bound and distribution, before and after the model takes over', () => {
    simulate(bayes, 30).forEach((t) => checkBounds(t.params));
  });

  it('is reproducible by seed', () => {
    expect(simulate(bayes, 12)).toEqual(simulate(define({ method: 'bayes', run_cap: 30, seed: 3, parameters: space }), 12));
    expect(simulate(define({ method: 'bayes', run_cap: 30, seed: 4, parameters: space }), 12)).not.toEqual(simulate(bayes, 12));
  });

  it('proposes better points than random search once it has observations', () => {
    const tpe = simulate(bayes, 30).slice(10).map((t) => t.metric!);
    const random = Array.from({ length: 20 }, (_, i) => score(randomPoint(define({ method: 'random', run_cap: 30, seed: 3, parameters: space }), i + 10)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(tpe)).toBeGreaterThan(mean(random) + 0.2);
  });

  it('ignores trials without a metric (failed ones)', () => {
    const failed: SweepTrial[] = Array.from({ length: 8 }, (_, i) => ({ index: i, params: randomPoint(bayes, i), status: 'failed' }));
    expect(bayesPoint(bayes, 8, failed)).toEqual(bayesPoint(bayes, 8, []));
  });

  it('keeps proposals inside [0, 1] and valid choice indices', () => {
    const random = mulberry32(9);
    const observations = Array.from({ length: 12 }, (_, i) => ({ x: [i / 11, i % 3], loss: Math.abs(i / 11 - 0.9) }));
    for (let i = 0; i < 50; i++) {
      const [x, c] = proposeTpe([{ kind: 'numeric' }, { kind: 'categorical', choices: 3 }], observations, random);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
      expect([0, 1, 2]).toContain(c);
    }
  });
});
