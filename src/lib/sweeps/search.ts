import { deriveSeed, mulberry32 } from '$lib/random';
import type { ParamValue, SweepDefinition, SweepTrial } from './definition';
import { gridValues, isSearched, unitOf, valueAt } from './space';
import { proposeTpe, type Dimension, type Observation } from './tpe';

/**
 * Which parameter values trial `index` trains. Every method is a pure function of the definition (and,
 * for bayes, of the finished trials before it), so a resumed sweep proposes exactly what it would have.
 */

/** Parameter names in a fixed order (sorted, like W&B), so proposals never depend on key order. */
export const parameterNames = (definition: SweepDefinition) => Object.keys(definition.parameters).sort();

/** Size of the full grid (the product of every parameter's value count). */
export function gridSize(definition: SweepDefinition): number {
  return parameterNames(definition).reduce((n, name) => n * gridValues(definition.parameters[name]!).length, 1);
}

/** How many trials the sweep trains: the grid (capped by run_cap), or run_cap for random and bayes. */
export function plannedTrials(definition: SweepDefinition): number {
  if (definition.method === 'grid') return Math.min(gridSize(definition), definition.run_cap ?? Infinity);
  return definition.run_cap!;
}

/**
 * Grid point `index` in itertools.product order (the last parameter varies fastest).
 * @example gridPoint(def, 0) // every parameter at its first value
 */
export function gridPoint(definition: SweepDefinition, index: number): Record<string, ParamValue> {
  const names = parameterNames(definition);
  const point: Record<string, ParamValue> = {};
  let rest = index;
  for (let i = names.length - 1; i >= 0; i--) {
    const values = gridValues(definition.parameters[names[i]!]!);
    point[names[i]!] = values[rest % values.length]!;
    rest = Math.floor(rest / values.length);
  }
  return Object.fromEntries(names.map((n) => [n, point[n]!]));
}

/** Random point `index`: drawn from a generator seeded by (sweep seed, index) alone. */
export function randomPoint(definition: SweepDefinition, index: number): Record<string, ParamValue> {
  const random = mulberry32(deriveSeed(definition.seed, 'random', index));
  return Object.fromEntries(parameterNames(definition).map((name) => [name, valueAt(definition.parameters[name]!, random())]));
}

/**
 * Bayesian point `index` by TPE over the finished trials (their final metric; lower is better after
 * orienting by the goal). Failed trials carry no metric and are left out.
 */
export function bayesPoint(definition: SweepDefinition, index: number, finished: readonly SweepTrial[]): Record<string, ParamValue> {
  const names = parameterNames(definition);
  const searched = names.filter((n) => isSearched(definition.parameters[n]!));
  const dimensions: Dimension[] = searched.map((n) => {
    const spec = definition.parameters[n]!;
    return spec.distribution === 'categorical' ? { kind: 'categorical', choices: spec.values.length } : { kind: 'numeric' };
  });
  const sign = definition.metric.goal === 'maximize' ? -1 : 1;
  const observations: Observation[] = finished
    .filter((t) => t.metric !== undefined && Number.isFinite(t.metric))
    .map((t) => ({ loss: sign * t.metric!, x: searched.map((n) => coordinate(definition, n, t.params[n]!)) }));
  const random = mulberry32(deriveSeed(definition.seed, 'bayes', index));
  const x = proposeTpe(dimensions, observations, random);
  const point: Record<string, ParamValue> = {};
  for (const name of names) {
    const spec = definition.parameters[name]!;
    const i = searched.indexOf(name);
    if (i < 0) point[name] = valueAt(spec, 0);
    else if (spec.distribution === 'categorical') point[name] = spec.values[x[i]!]!;
    else point[name] = valueAt(spec, Math.min(x[i]!, 1 - 1e-12));
  }
  return point;
}

function coordinate(definition: SweepDefinition, name: string, value: ParamValue): number {
  const spec = definition.parameters[name]!;
  if (spec.distribution === 'categorical') {
    const index = spec.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(value));
    return Math.max(0, index);
  }
  return unitOf(spec, value as number);
}

/** The parameter values of trial `index`, or undefined when the sweep has no more trials to propose. */
export function proposeTrial(definition: SweepDefinition, index: number, trials: readonly SweepTrial[]): Record<string, ParamValue> | undefined {
  if (index >= plannedTrials(definition)) return undefined;
  switch (definition.method) {
    case 'grid':
      return gridPoint(definition, index);
    case 'random':
      return randomPoint(definition, index);
    case 'bayes':
      return bayesPoint(definition, index, trials.filter((t) => t.index < index && (t.status === 'completed' || t.status === 'stopped')));
  }
}
