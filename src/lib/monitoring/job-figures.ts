import { Exposition } from './prometheus';

/**
 * The figures `loupe train` and `loupe gate` push to a Pushgateway (`--pushgateway`): one group per
 * command and model, so each model's last run and last gate decision stay visible beside the studio's
 * monitoring series. Metric names share the `loupe_` prefix and the `model` label of `api/metrics`.
 */

export interface TrainFigures {
  model: string;
  version: number;
  task: string;
  datasetVersion: string;
  /** Epochs trained, when the run recorded them. */
  epochs?: number;
  /** Metrics by split (`test`, `val`), as metrics.json holds them. */
  splits: Record<string, Record<string, number>>;
  finishedAt: number;
}

export function formatTrainFigures(figures: TrainFigures): string {
  const out = new Exposition();
  const base = { model: figures.model, version: figures.version };
  out.family(
    'loupe_training_metric',
    'gauge',
    'Held-out metrics of the last run trained by loupe train, per split.',
    Object.entries(figures.splits).flatMap(([split, metrics]) =>
      Object.entries(metrics)
        .filter(([, value]) => Number.isFinite(value))
        .map(([metric, value]): [string, Record<string, string | number>, number] => ['', { ...base, split, metric }, value]),
    ),
  );
  out.family('loupe_training_epochs', 'gauge', 'Epochs the last run trained.', figures.epochs === undefined ? [] : [['', { ...base, task: figures.task, dataset_version: figures.datasetVersion }, figures.epochs]]);
  out.family('loupe_training_completed_timestamp_seconds', 'gauge', 'When the last run finished (Unix time).', [['', base, figures.finishedAt / 1000]]);
  return out.toString();
}

export interface GateFigures {
  model: string;
  passed: boolean;
  split: string;
  candidate: Record<string, number>;
  production?: Record<string, number>;
  decidedAt: number;
}

export function formatGateFigures(figures: GateFigures): string {
  const out = new Exposition();
  const model = figures.model;
  out.family('loupe_gate_passed', 'gauge', 'Whether the last gate run promoted the candidate (1) or kept production (0).', [['', { model, split: figures.split }, figures.passed ? 1 : 0]]);
  const sides = Object.entries({ candidate: figures.candidate, production: figures.production ?? {} });
  out.family(
    'loupe_gate_metric',
    'gauge',
    'Metrics the last gate run compared, per side.',
    sides.flatMap(([side, metrics]) =>
      Object.entries(metrics)
        .filter(([, value]) => Number.isFinite(value))
        .map(([metric, value]): [string, Record<string, string>, number] => ['', { model, side, metric }, value]),
    ),
  );
  out.family('loupe_gate_decided_timestamp_seconds', 'gauge', 'When the last gate run decided (Unix time).', [['', { model }, figures.decidedAt / 1000]]);
  return out.toString();
}
