import type { SweepRow } from '$lib/db/types';
import { bestTrial } from './controller';
import type { ParamValue } from './definition';
import { parameterNames } from './search';
import { boundsOf, isLogScale, isSearched } from './space';

/**
 * The data of a sweep's parallel-coordinates chart: one axis per searched parameter plus the metric, one
 * line per trial that has a metric. Pure, so the chart component only draws.
 */

export interface Axis {
  name: string;
  /** Numeric axes are linear or log; categorical axes space their values evenly. */
  kind: 'linear' | 'log' | 'categorical';
  /** Categorical axes: the values in order. */
  values?: ParamValue[];
  /** Numeric axes: the range to draw. */
  range?: [number, number];
}

export interface Line {
  id: string;
  label: string;
  values: Record<string, ParamValue | undefined>;
  /** 0 (worst) … 1 (best): how strongly the line is drawn. */
  strength: number;
  highlight?: boolean;
}

const same = (a: ParamValue | undefined, b: ParamValue | undefined) => JSON.stringify(a) === JSON.stringify(b);
const show = (v: ParamValue) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : JSON.stringify(v).replaceAll('"', ''));

/** Where a value sits on an axis, 0 (bottom) … 1 (top); undefined when it has no place on it. */
export function position(axis: Axis, value: ParamValue | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (axis.kind === 'categorical') {
    const values = axis.values ?? [];
    const index = values.findIndex((v) => same(v, value));
    if (index < 0) return undefined;
    return values.length === 1 ? 0.5 : index / (values.length - 1);
  }
  if (typeof value !== 'number' || !axis.range) return undefined;
  const [lo, hi] = axis.range;
  if (hi === lo) return 0.5;
  const f = (x: number) => (axis.kind === 'log' ? Math.log(x) : x);
  return Math.min(1, Math.max(0, (f(value) - f(lo)) / (f(hi) - f(lo))));
}

/** Labels along an axis: its values, or its ends and middle (the geometric middle on a log axis). */
export function ticks(axis: Axis): { at: number; label: string }[] {
  if (axis.kind === 'categorical') return (axis.values ?? []).map((v) => ({ at: position(axis, v)!, label: show(v) }));
  if (!axis.range) return [];
  const [lo, hi] = axis.range;
  const mid = axis.kind === 'log' ? Math.sqrt(lo * hi) : (lo + hi) / 2;
  return (hi === lo ? [lo] : [lo, mid, hi]).map((v) => ({ at: position(axis, v)!, label: show(v) }));
}

/** Axes and lines of a sweep's trials. */
export function sweepChart(sweep: Pick<SweepRow, 'definition' | 'trials'>): { axes: Axis[]; lines: Line[] } {
  const { definition } = sweep;
  const metric = definition.metric.name;
  const axes: Axis[] = parameterNames(definition)
    .filter((name) => isSearched(definition.parameters[name]!))
    .map((name): Axis => {
      const spec = definition.parameters[name]!;
      if (spec.distribution === 'categorical') return { name, kind: 'categorical', values: spec.values };
      return { name, kind: isLogScale(spec) ? 'log' : 'linear', range: boundsOf(spec) };
    });
  const scored = sweep.trials.filter((t) => t.metric !== undefined && Number.isFinite(t.metric));
  if (scored.length === 0) return { axes, lines: [] };
  const metrics = scored.map((t) => t.metric!);
  const [lo, hi] = [Math.min(...metrics), Math.max(...metrics)];
  axes.push({ name: metric, kind: 'linear', range: [lo, hi] });
  const best = bestTrial(sweep);
  const strength = (m: number) => (hi === lo ? 1 : definition.metric.goal === 'maximize' ? (m - lo) / (hi - lo) : (hi - m) / (hi - lo));
  const lines = scored.map((t) => ({
    id: String(t.index),
    label: `trial ${t.index + 1}: ${metric} ${show(t.metric!)}`,
    values: { ...t.params, [metric]: t.metric },
    strength: strength(t.metric!),
    highlight: t.index === best?.index,
  }));
  return { axes, lines };
}
