import type { ParameterSpec, ParamValue } from './definition';

/**
 * The search space, one parameter at a time: drawing a value from its distribution, mapping values to
 * and from the unit interval the samplers work in (log scale for the log distributions), and the grid
 * of values a grid search enumerates.
 */

/** Rounds to a multiple of q inside [min, max], without float noise such as 0.30000000000000004. */
function quantize(x: number, q: number, min: number, max: number): number {
  let k = Math.round(x / q);
  if (k * q > max + 1e-12) k = Math.floor(max / q + 1e-9);
  if (k * q < min - 1e-12) k = Math.ceil(min / q - 1e-9);
  return tidy(k * q);
}

/** Trims binary noise of decimal steps (12 significant digits). */
const tidy = (x: number) => Number(x.toPrecision(12));

/** Whether the parameter is searched over (not fixed). */
export const isSearched = (spec: ParameterSpec) => spec.distribution !== 'constant';

/** Number of choices of a categorical parameter; undefined for numeric ones. */
export function choiceCount(spec: ParameterSpec): number | undefined {
  return spec.distribution === 'categorical' ? spec.values.length : undefined;
}

/**
 * The value at position `u` ∈ [0, 1) of the parameter's distribution (its inverse CDF), so a uniform
 * draw gives a correctly distributed sample.
 */
export function valueAt(spec: ParameterSpec, u: number): ParamValue {
  switch (spec.distribution) {
    case 'constant':
      return spec.value;
    case 'categorical':
      return spec.values[Math.min(spec.values.length - 1, Math.floor(u * spec.values.length))]!;
    case 'uniform':
      return spec.min + u * (spec.max - spec.min);
    case 'int_uniform':
      return Math.min(spec.max, spec.min + Math.floor(u * (spec.max - spec.min + 1)));
    case 'q_uniform':
      return quantize(spec.min + u * (spec.max - spec.min), spec.q, spec.min, spec.max);
    case 'log_uniform':
      return Math.exp(spec.min + u * (spec.max - spec.min));
    case 'log_uniform_values':
      return Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min)));
    case 'q_log_uniform_values':
      return quantize(Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min))), spec.q, spec.min, spec.max);
  }
}

/** Where a numeric value sits in [0, 1] of its parameter's sampling scale (the inverse of `valueAt`). */
export function unitOf(spec: ParameterSpec, value: number): number {
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  switch (spec.distribution) {
    case 'uniform':
    case 'q_uniform':
      return spec.max === spec.min ? 0.5 : clamp((value - spec.min) / (spec.max - spec.min));
    case 'int_uniform':
      return clamp((value - spec.min + 0.5) / (spec.max - spec.min + 1));
    case 'log_uniform':
      return spec.max === spec.min ? 0.5 : clamp((Math.log(value) - spec.min) / (spec.max - spec.min));
    case 'log_uniform_values':
    case 'q_log_uniform_values':
      return spec.max === spec.min ? 0.5 : clamp((Math.log(value) - Math.log(spec.min)) / (Math.log(spec.max) - Math.log(spec.min)));
    default:
      throw new Error(`${spec.distribution} parameters have no numeric scale`);
  }
}

/** The lowest and highest value a numeric parameter can take (in value terms). */
export function boundsOf(spec: ParameterSpec): [number, number] | undefined {
  switch (spec.distribution) {
    case 'constant':
    case 'categorical':
      return undefined;
    case 'log_uniform':
      return [Math.exp(spec.min), Math.exp(spec.max)];
    default:
      return [spec.min, spec.max];
  }
}

/** Whether the parameter is sampled on a log scale (for charts). */
export const isLogScale = (spec: ParameterSpec) =>
  spec.distribution === 'log_uniform' || spec.distribution === 'log_uniform_values' || spec.distribution === 'q_log_uniform_values';

/** The values a grid search enumerates for a parameter; q_uniform includes max when it falls on the grid. */
export function gridValues(spec: ParameterSpec): ParamValue[] {
  switch (spec.distribution) {
    case 'constant':
      return [spec.value];
    case 'categorical':
      return spec.values;
    case 'int_uniform':
      return Array.from({ length: spec.max - spec.min + 1 }, (_, i) => spec.min + i);
    case 'q_uniform': {
      const out: number[] = [];
      for (let k = Math.ceil(spec.min / spec.q - 1e-9); k * spec.q <= spec.max + 1e-9; k++) out.push(tidy(k * spec.q));
      return out;
    }
    default:
      throw new Error(`grid search cannot enumerate a ${spec.distribution} parameter`);
  }
}
