import { parse as parseYaml } from 'yaml';
import type { Hyperband, ParameterSpec, ParamValue, SearchMethod, SweepDefinition } from '$lib/db/sweep-shapes';
import type { RunStatus, TaskName } from '$lib/db/types';
import { canonicalTask, TASK_NAMES, TASKS } from '$lib/tasks/registry';
import { hyperbandBands } from './hyperband';
import { baseSpec, impliedArchitecture, metricsFor, settingsFor, textArchitecturesTaking } from './parameters';

export type { Hyperband, ParameterSpec, ParamValue, SearchMethod, SweepDefinition, SweepRegistration, SweepTrial, TrialStatus } from '$lib/db/sweep-shapes';

export type Distribution = ParameterSpec['distribution'];
export const DISTRIBUTIONS: readonly Distribution[] = [
  'constant',
  'categorical',
  'uniform',
  'int_uniform',
  'q_uniform',
  'log_uniform',
  'log_uniform_values',
  'q_log_uniform_values',
];

export const FINAL_SWEEP_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export interface DefinitionIssue {
  /** The offending key, e.g. `parameters.learningRate.min`. */
  path: string;
  message: string;
}

/** A definition that does not fit the schema; `issues` names every offending key. */
export class SweepDefinitionError extends Error {
  override name = 'SweepDefinitionError';
  constructor(readonly issues: DefinitionIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
  }
}

const TOP_LEVEL = new Set(['name', 'description', 'task', 'method', 'metric', 'parameters', 'early_terminate', 'run_cap', 'seed']);
/** W&B keys about launching programs on a server: meaningless here, accepted and ignored. */
const IGNORED = new Set(['program', 'command', 'project', 'entity', 'controller', 'job', 'image_uri']);
const MAX_TRIALS = 1000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a definition written as YAML or JSON (JSON is YAML, so one parser reads both).
 * @throws SweepDefinitionError naming the line of a syntax error or every offending key
 */
export function parseSweepText(text: string): unknown {
  if (!text.trim()) throw new SweepDefinitionError([{ path: '', message: 'the definition is empty: write one in YAML or JSON, or pick an example' }]);
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new SweepDefinitionError([{ path: '', message: `not valid YAML or JSON: ${message}` }]);
  }
}

/**
 * Validates a sweep definition (text or an already parsed object) and fills W&B's defaults.
 * @returns the normalised definition and the keys it ignored
 * @throws SweepDefinitionError listing every problem with the key it concerns
 * @example validateSweep('method: random\ntask: text-classification\nrun_cap: 4\nparameters:\n  learningRate: {min: 0.01, max: 0.1}')
 */
export function validateSweep(input: unknown): { definition: SweepDefinition; warnings: string[] } {
  const raw = typeof input === 'string' ? parseSweepText(input) : input;
  const issues: DefinitionIssue[] = [];
  const warnings: string[] = [];
  const fail = (path: string, message: string) => void issues.push({ path, message });
  if (!isObject(raw)) throw new SweepDefinitionError([{ path: '', message: 'the definition must be a mapping with method, metric and parameters' }]);

  for (const key of Object.keys(raw)) {
    if (IGNORED.has(key)) warnings.push(`${key} is ignored: Loupe trains in this browser, not by launching a program`);
    else if (!TOP_LEVEL.has(key)) fail(key, `unknown key; valid: ${[...TOP_LEVEL].join(', ')}`);
  }

  // Earlier names of a task (`car-damage`) still name it.
  const validTask = canonicalTask(raw.task);
  if (!validTask) fail('task', `must be one of ${TASK_NAMES.join(', ')}, got ${show(raw.task)}`);
  const method = raw.method;
  if (method !== 'grid' && method !== 'random' && method !== 'bayes') fail('method', `must be grid, random or bayes, got ${show(method)}`);
  for (const key of ['name', 'description'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') fail(key, `must be text, got ${show(raw[key])}`);
  }
  const seed = raw.seed ?? 0;
  if (!Number.isInteger(seed)) fail('seed', `must be an integer, got ${show(seed)}`);
  const runCap = raw.run_cap;
  if (runCap !== undefined && !(Number.isInteger(runCap) && (runCap as number) >= 1 && (runCap as number) <= MAX_TRIALS)) {
    fail('run_cap', `must be a whole number from 1 to ${MAX_TRIALS}, got ${show(runCap)}`);
  } else if (runCap === undefined && (method === 'random' || method === 'bayes')) {
    fail('run_cap', `a ${method} sweep needs run_cap: how many trials to train (it would otherwise never end)`);
  }

  const metric = validateMetric(raw.metric, validTask, fail, warnings);
  const parameters = validateParameters(raw.parameters, validTask, method === 'grid', fail);
  const earlyTerminate = raw.early_terminate === undefined ? undefined : validateHyperband(raw.early_terminate, fail);

  if (issues.length) throw new SweepDefinitionError(issues);
  if (earlyTerminate && validTask) {
    const epochs = maxEpochs(parameters!.epochs) ?? baseSpec(validTask, '').epochs;
    // A run is asked whether to stop only after epochs it has more to follow.
    if (!hyperbandBands(earlyTerminate, epochs).some((band) => band < epochs)) {
      warnings.push(`early_terminate never stops a trial: trials run at most ${epochs} epochs, and the first band is not before the last epoch`);
    }
  }
  const definition: SweepDefinition = {
    ...(typeof raw.name === 'string' && raw.name.trim() ? { name: raw.name.trim() } : {}),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    task: validTask!,
    method: method as SearchMethod,
    metric: metric!,
    parameters: parameters!,
    ...(earlyTerminate ? { early_terminate: earlyTerminate } : {}),
    ...(runCap === undefined ? {} : { run_cap: runCap as number }),
    seed: seed as number,
  };
  return { definition, warnings };
}

function validateMetric(value: unknown, task: TaskName | undefined, fail: (p: string, m: string) => void, warnings: string[]) {
  const known = task ? metricsFor(task) : undefined;
  if (value === undefined) {
    if (!task) return undefined;
    const name = `val_${TASKS[task].primaryMetric}`;
    return { name, goal: known!.get(name) ? ('maximize' as const) : ('minimize' as const) };
  }
  if (!isObject(value)) return void fail('metric', 'must be a mapping {name, goal}');
  for (const key of Object.keys(value)) if (key !== 'name' && key !== 'goal' && key !== 'target') fail(`metric.${key}`, 'unknown key; valid: name, goal');
  const { name, goal } = value;
  if (typeof name !== 'string' || !name) return void fail('metric.name', `must name a metric${known ? `; valid: ${[...known.keys()].join(', ')}` : ''}`);
  if (known && !known.has(name)) return void fail('metric.name', `${task} runs do not record "${name}"; valid: ${[...known.keys()].join(', ')}`);
  if (goal !== undefined && goal !== 'minimize' && goal !== 'maximize') return void fail('metric.goal', `must be minimize or maximize, got ${show(goal)}`);
  const greater = known?.get(name);
  // W&B defaults the goal to minimize; for a metric where higher is better that default is a trap.
  const resolved = goal ?? (greater ? 'maximize' : 'minimize');
  if (goal !== undefined && greater !== undefined && (goal === 'maximize') !== greater) {
    warnings.push(`metric.goal is ${goal}, but higher ${name} is ${greater ? 'better' : 'worse'}`);
  }
  return { name, goal: resolved as 'minimize' | 'maximize' };
}

function validateParameters(value: unknown, task: TaskName | undefined, grid: boolean, fail: (p: string, m: string) => void) {
  if (!isObject(value) || Object.keys(value).length === 0) return void fail('parameters', 'must map at least one training setting to its values');
  const settings = task ? settingsFor(task) : undefined;
  const out: Record<string, ParameterSpec> = {};
  for (const [name, config] of Object.entries(value)) {
    const path = `parameters.${name}`;
    const setting = settings?.get(name);
    if (settings && !setting) {
      const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      fail(path, `not a training setting of ${task}${settings.has(camel) ? ` (did you mean ${camel}?)` : ''}; valid: ${[...settings.keys()].join(', ')}`);
      continue;
    }
    const spec = normaliseParameter(config, path, fail);
    if (!spec) continue;
    if (setting) checkDomain(spec, setting, path, fail);
    if (grid && !['constant', 'categorical', 'int_uniform', 'q_uniform'].includes(spec.distribution)) {
      fail(path, `grid search enumerates values: use values, value, int_uniform or q_uniform, not ${spec.distribution}`);
    }
    out[name] = spec;
  }
  if (task) checkTrainedArchitectures(out, task, fail);
  return out;
}

/** Each text model setting a sweep varies must belong to an architecture its trials train. */
function checkTrainedArchitectures(parameters: Record<string, ParameterSpec>, task: TaskName, fail: (p: string, m: string) => void) {
  const architecture = parameters.architecture;
  const trained = architecture?.distribution === 'constant' ? [architecture.value] : architecture?.distribution === 'categorical' ? architecture.values : [impliedArchitecture(task, Object.keys(parameters))];
  // An architecture value that is not one is reported on its own; there is nothing to compare against then.
  if (!trained.every((value) => settingsFor(task).get('architecture')?.valid(value) ?? true)) return;
  for (const name of Object.keys(parameters)) {
    const takers = textArchitecturesTaking(name);
    if (!takers || takers.some((taker) => trained.includes(taker))) continue;
    fail(`parameters.${name}`, `a setting of ${takers.join(' and ')}, which this sweep never trains (its trials train ${trained.join(', ')}); add architecture: {value: ${takers[0]}}`);
  }
}

const PARAMETER_KEYS = new Set(['value', 'values', 'distribution', 'min', 'max', 'q']);

/** Fills the distribution the way W&B does, and checks the keys each distribution needs. */
function normaliseParameter(config: unknown, path: string, fail: (p: string, m: string) => void): ParameterSpec | undefined {
  if (!isObject(config)) return void fail(path, 'must be a mapping with value, values, or min and max');
  for (const key of Object.keys(config)) {
    if (key === 'probabilities' || key === 'mu' || key === 'sigma' || key === 'parameters') fail(`${path}.${key}`, 'not supported by Loupe sweeps');
    else if (!PARAMETER_KEYS.has(key)) fail(`${path}.${key}`, `unknown key; valid: ${[...PARAMETER_KEYS].join(', ')}`);
  }
  const { value, values, min, max, q } = config;
  let distribution = config.distribution;
  if (distribution === undefined) {
    if ('value' in config) distribution = 'constant';
    else if (values !== undefined) distribution = 'categorical';
    else if (Number.isInteger(min) && Number.isInteger(max)) distribution = 'int_uniform';
    else if (min !== undefined || max !== undefined) distribution = 'uniform';
    else return void fail(path, 'needs value, values, or min and max');
  }
  if (typeof distribution !== 'string' || !(DISTRIBUTIONS as readonly string[]).includes(distribution)) {
    return void fail(`${path}.distribution`, `must be one of ${DISTRIBUTIONS.join(', ')}, got ${show(distribution)}`);
  }
  const d = distribution as Distribution;
  if (d === 'constant') {
    if (!('value' in config)) return void fail(`${path}.value`, 'a constant parameter needs value');
    return { distribution: d, value: value as ParamValue };
  }
  if (d === 'categorical') {
    if (!Array.isArray(values) || values.length === 0) return void fail(`${path}.values`, 'must be a non-empty list');
    return { distribution: d, values: values as ParamValue[] };
  }
  let ok = true;
  for (const [key, bound] of [['min', min], ['max', max]] as const) {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      fail(`${path}.${key}`, `${d} needs a number, got ${show(bound)}`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  const lo = min as number;
  const hi = max as number;
  if (lo > hi) return void fail(`${path}.min`, `must not exceed max (${lo} > ${hi})`);
  if (d === 'int_uniform' && !(Number.isInteger(lo) && Number.isInteger(hi))) return void fail(path, `int_uniform needs whole-number min and max, got ${lo} and ${hi}`);
  if ((d === 'log_uniform_values' || d === 'q_log_uniform_values') && lo <= 0) {
    return void fail(`${path}.min`, `${d} needs min > 0, got ${lo} (log_uniform takes natural-log bounds instead)`);
  }
  if (d === 'q_uniform' || d === 'q_log_uniform_values') {
    const step = q ?? 1;
    if (typeof step !== 'number' || !(step > 0)) return void fail(`${path}.q`, `must be a positive number, got ${show(step)}`);
    return { distribution: d, min: lo, max: hi, q: step };
  }
  if (q !== undefined) fail(`${path}.q`, `only q_uniform and q_log_uniform_values take q`);
  return { distribution: d, min: lo, max: hi };
}

/** Every value a parameter can produce must suit its setting (e.g. no fractional epochs). */
function checkDomain(spec: ParameterSpec, setting: import('./parameters').Setting, path: string, fail: (p: string, m: string) => void): void {
  const bad = (v: ParamValue) => `${show(v)} is not ${setting.expects}`;
  switch (spec.distribution) {
    case 'constant':
      if (!setting.valid(spec.value)) fail(`${path}.value`, bad(spec.value));
      return;
    case 'categorical':
      spec.values.forEach((v, i) => {
        if (!setting.valid(v)) fail(`${path}.values[${i}]`, bad(v));
      });
      return;
    default: {
      if (setting.kind === 'choice') return void fail(path, `${setting.name} is a choice: list its values, not a ${spec.distribution} range`);
      const discrete = spec.distribution === 'int_uniform' || (('q' in spec) && Number.isInteger(spec.q) && Number.isInteger(spec.min));
      if (setting.kind === 'int' && !discrete) {
        return void fail(path, `${setting.name} takes whole numbers: use int_uniform, or q_uniform with a whole-number q and min`);
      }
      const [lo, hi] = spec.distribution === 'log_uniform' ? [Math.exp(spec.min), Math.exp(spec.max)] : [spec.min, spec.max];
      if (!setting.valid(lo)) fail(`${path}.min`, bad(lo));
      if (!setting.valid(hi)) fail(`${path}.max`, bad(hi));
    }
  }
}

function validateHyperband(value: unknown, fail: (p: string, m: string) => void): Hyperband | undefined {
  if (!isObject(value)) return void fail('early_terminate', 'must be a mapping {type: hyperband, min_iter, eta}');
  for (const key of Object.keys(value)) {
    if (!['type', 'min_iter', 'max_iter', 's', 'eta', 'strict'].includes(key)) fail(`early_terminate.${key}`, 'unknown key; valid: type, min_iter, max_iter, s, eta');
  }
  if (value.type !== 'hyperband') return void fail('early_terminate.type', `must be hyperband, got ${show(value.type)}`);
  const { min_iter: minIter, max_iter: maxIter, s } = value;
  const eta = value.eta ?? 3;
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
  if (typeof eta !== 'number' || !(eta > 1)) return void fail('early_terminate.eta', `must be a number > 1, got ${show(eta)}`);
  if (minIter !== undefined) {
    if (!positiveInt(minIter)) return void fail('early_terminate.min_iter', `must be a whole number of epochs ≥ 1, got ${show(minIter)}`);
    return { type: 'hyperband', min_iter: minIter as number, eta };
  }
  if (maxIter !== undefined) {
    if (!positiveInt(maxIter)) return void fail('early_terminate.max_iter', `must be a whole number of epochs ≥ 1, got ${show(maxIter)}`);
    const brackets = s ?? 0;
    if (!Number.isInteger(brackets) || (brackets as number) < 1) return void fail('early_terminate.s', `max_iter needs s, the number of brackets (a whole number ≥ 1), got ${show(s)}`);
    return { type: 'hyperband', max_iter: maxIter as number, s: brackets as number, eta };
  }
  return void fail('early_terminate', 'hyperband needs min_iter (or max_iter with s)');
}

/** The most epochs a trial can run, from the `epochs` parameter (undefined: the task's default). */
function maxEpochs(spec: ParameterSpec | undefined): number | undefined {
  if (!spec) return undefined;
  if (spec.distribution === 'constant') return spec.value as number;
  if (spec.distribution === 'categorical') return Math.max(...(spec.values as number[]));
  return spec.max;
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
