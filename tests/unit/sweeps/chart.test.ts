import { describe, expect, it } from 'vitest';
import { position, sweepChart, ticks } from '../../../src/lib/sweeps/chart';
import { validateSweep, type SweepTrial } from '../../../src/lib/sweeps/definition';

const { definition } = validateSweep({
  task: 'sentiment',
  method: 'random',
  run_cap: 4,
  metric: { name: 'val_loss', goal: 'minimize' },
  parameters: {
    learningRate: { distribution: 'log_uniform_values', min: 0.001, max: 0.1 },
    optimizer: { values: ['adam', 'sgd'] },
    dim: { min: 8, max: 32 },
    epochs: { value: 2 },
  },
});

const trial = (index: number, params: SweepTrial['params'], metric?: number, status: SweepTrial['status'] = 'completed'): SweepTrial => ({
  index,
  params: { epochs: 2, ...params },
  status,
  runId: `r${index}`,
  ...(metric === undefined ? {} : { metric }),
});

describe('parallel coordinates data', () => {
  it('has one axis per searched parameter (sorted) plus the metric, and one line per scored trial', () => {
    const trials = [
      trial(0, { learningRate: 0.01, optimizer: 'adam', dim: 8 }, 0.9),
      trial(1, { learningRate: 0.001, optimizer: 'sgd', dim: 32 }, 0.5),
      trial(2, { learningRate: 0.1, optimizer: 'sgd', dim: 20 }, 0.7, 'stopped'),
      trial(3, { learningRate: 0.05, optimizer: 'adam', dim: 9 }, undefined, 'failed'),
    ];
    const { axes, lines } = sweepChart({ definition, trials });
    expect(axes).toEqual([
      { name: 'dim', kind: 'linear', range: [8, 32] },
      { name: 'learningRate', kind: 'log', range: [0.001, 0.1] },
      { name: 'optimizer', kind: 'categorical', values: ['adam', 'sgd'] },
      { name: 'val_loss', kind: 'linear', range: [0.5, 0.9] },
    ]);
    expect(lines.map((l) => [l.id, Number(l.strength.toFixed(6)), l.highlight])).toEqual([
      ['0', 0, false],
      ['1', 1, true], // lowest loss: the best, drawn strongest
      ['2', 0.5, false],
    ]);
  });

  it('places values on linear, log and categorical axes', () => {
    expect(position({ name: 'lr', kind: 'log', range: [0.001, 0.1] }, 0.01)).toBeCloseTo(0.5);
    expect(position({ name: 'dim', kind: 'linear', range: [8, 32] }, 20)).toBeCloseTo(0.5);
    expect(position({ name: 'dim', kind: 'linear', range: [8, 32] }, 99)).toBe(1);
    expect(position({ name: 'o', kind: 'categorical', values: [[0, 0], [3, 5]] }, [3, 5])).toBe(1);
    expect(position({ name: 'o', kind: 'categorical', values: ['adam'] }, 'adam')).toBe(0.5);
    expect(position({ name: 'o', kind: 'categorical', values: ['adam'] }, 'sgd')).toBeUndefined();
    expect(ticks({ name: 'lr', kind: 'log', range: [0.001, 0.1] }).map((t) => t.label)).toEqual(['0.001', '0.01', '0.1']);
    expect(ticks({ name: 'o', kind: 'categorical', values: [[0, 0], [3, 5]] }).map((t) => t.label)).toEqual(['[0,0]', '[3,5]']);
  });

  it('draws no metric axis and no line before any trial has a metric', () => {
    const { axes, lines } = sweepChart({ definition, trials: [trial(0, { learningRate: 0.01, optimizer: 'adam', dim: 8 }, undefined, 'running')] });
    expect(axes.map((a) => a.name)).toEqual(['dim', 'learningRate', 'optimizer']);
    expect(lines).toEqual([]);
  });
});
