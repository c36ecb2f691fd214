import { join } from 'node:path';
import type { LoupeDb } from '$lib/db/db';
import type { DatasetRow, TaskName } from '$lib/db/types';
import { classSetConflict, decide, defaultRule, validateRule } from '$lib/registry/gate';
import type { GateRule } from '$lib/registry/types';
import { savedModelLabels } from '$lib/tasks/labels';
import { evaluateHeldOutSplit, type SplitEvaluation } from '$lib/training/evaluate';
import { formatNumber } from '$lib/format';
import { numberOption, optional, required, type Command } from './args';
import { importData } from './data';
import { loadBundleModel, readBundleFile, type BundleFile } from './bundles';
import { BadFormatError, CliError, EXIT, UsageError, WrongTaskError } from './errors';
import { jsonText, readInputFile, writeOutput } from './files';
import { compareRecorded, readMetricsFile, type HeldOutSplit } from './metrics-file';
import type { CliIo } from './progress';
import { memoryDb, startBackend } from './runtime';
import { formatGateFigures } from '$lib/monitoring/job-figures';
import { PUSH_OPTION_HELP, pushFigures, pushgatewayOption, pushSummary } from './push';

/** The gate rule: the task's default, or `--rule`, with `--min-delta` applied. */
async function readRule(path: string | undefined, task: TaskName | undefined, minDelta: number | undefined): Promise<GateRule> {
  let rule: GateRule;
  if (path) {
    const text = new TextDecoder().decode(await readInputFile(path, '--rule'));
    try {
      rule = validateRule(JSON.parse(text));
    } catch (error) {
      throw new BadFormatError(`--rule ${path}: ${(error as Error).message}`);
    }
  } else if (task) {
    rule = defaultRule(task);
  } else {
    throw new UsageError('the metrics files do not say their task (flat files of an older "loupe train"), so there is no default rule: give --rule rule.json');
  }
  if (minDelta !== undefined) rule.metrics[rule.primary] = { ...rule.metrics[rule.primary]!, minAbsoluteChange: minDelta };
  return rule;
}

/** A bundle's held-out figures on the evaluation data, measured now with its weights. */
async function measure(db: LoupeDb, file: BundleFile, dataset: DatasetRow): Promise<SplitEvaluation> {
  const trainable = await loadBundleModel(file);
  try {
    return await evaluateHeldOutSplit(db, trainable, dataset.id);
  } catch (error) {
    throw new CliError(`evaluating ${file.path} on ${dataset.name} failed: ${error instanceof Error ? error.message : String(error)}`, EXIT.failed);
  } finally {
    trainable.dispose();
  }
}

const describeBundle = (file: BundleFile, metrics: Record<string, number>) => ({
  path: file.path,
  name: file.bundle.name,
  version: file.bundle.version,
  sha256: file.bundle.sha256,
  metrics,
});

/** A side of the gate: what decision.json says about it, and its figures. */
interface Side {
  described: Record<string, unknown>;
  metrics: Record<string, number>;
}

/** Where both sides' figures come from: one split of one evaluation set, measured now or recorded. */
interface Figures {
  task?: TaskName;
  split: HeldOutSplit;
  samples?: number;
  datasetVersion?: string;
  measured: 'now' | 'recorded';
  evalData: Record<string, unknown>;
  backend?: string;
  notes: string[];
}

/** Applies the rule, writes decision.json and best_metrics.json, reports, and returns the exit code. */
async function decideAndWrite(io: CliIo, outDir: string, rule: GateRule, figures: Figures, candidate: Side, production: Side | undefined, gateway?: { url: string; job: string; model: string }): Promise<number> {
  const verdict = decide(rule, candidate.metrics, production?.metrics);
  const reason = verdict.reason.replaceAll('the champion', 'production');
  const decision = {
    decision: verdict.passed ? 'promote' : 'reject',
    passed: verdict.passed,
    reason,
    task: figures.task ?? null,
    evalData: figures.evalData,
    measured: figures.measured,
    ...(figures.backend ? { backend: figures.backend } : {}),
    rule,
    candidate: candidate.described,
    production: production?.described ?? null,
    checks: verdict.checks.map((c) => ({ ...c, failures: c.failures.map((f) => f.replaceAll('the champion', 'production')) })),
    ...(figures.notes.length ? { notes: figures.notes } : {}),
    decidedAt: new Date().toISOString(),
  };
  const chosen = verdict.passed ? 'candidate' : production ? 'production' : null;
  const best = {
    split: figures.split,
    ...(figures.samples !== undefined ? { samples: figures.samples } : {}),
    metrics: chosen === 'candidate' ? candidate.metrics : chosen === 'production' ? production!.metrics : {},
    ...(figures.task ? { task: figures.task } : {}),
    ...(figures.datasetVersion ? { datasetVersion: figures.datasetVersion } : {}),
    model: chosen,
  };
  await writeOutput(join(outDir, 'decision.json'), jsonText(decision));
  await writeOutput(join(outDir, 'best_metrics.json'), jsonText(best));
  for (const note of figures.notes) io.err(`note: ${note}\n`);
  const where = `${figures.split} split${figures.samples !== undefined ? `, ${figures.samples} samples` : ''}`;
  io.err(`${figures.measured === 'now' ? 'measured now on' : 'recorded figures of'} the ${where}\n`);
  for (const check of verdict.checks) {
    const champion = check.champion === undefined ? '' : ` vs production ${formatNumber(check.champion)}`;
    io.err(`${check.passed ? 'pass' : 'FAIL'}  ${check.metric} (${check.role}, ${check.greaterIsBetter ? 'higher' : 'lower'} is better): candidate ${check.candidate === undefined ? '—' : formatNumber(check.candidate)}${champion}\n`);
  }
  io.err(`${reason}\n`);
  const pushed =
    gateway &&
    (await pushFigures(
      io,
      gateway,
      gateway.model,
      formatGateFigures({ model: gateway.model, passed: verdict.passed, split: figures.split, candidate: candidate.metrics, ...(production ? { production: production.metrics } : {}), decidedAt: Date.now() }),
    ));
  io.out(
    jsonText({
      decision: decision.decision,
      reason,
      split: figures.split,
      samples: figures.samples ?? null,
      candidate: candidate.metrics,
      production: production?.metrics ?? null,
      decisionFile: join(outDir, 'decision.json'),
      ...(figures.notes.length ? { notes: figures.notes } : {}),
      ...(pushed ? { pushgateway: pushSummary(pushed) } : {}),
    }),
  );
  return verdict.passed ? EXIT.ok : EXIT.rejected;
}

/** `--candidate`/`--production` name metrics files (compared as recorded) rather than bundles (measured now). */
const isMetricsFile = (path: string) => /\.json$/i.test(path);

export const gateCommand: Command = {
  name: 'gate',
  summary: 'evaluate a candidate and production on the same data; exit 0 only if the candidate should be promoted',
  options: {
    candidate: { type: 'string' },
    production: { type: 'string' },
    eval: { type: 'string' },
    'min-delta': { type: 'string' },
    rule: { type: 'string' },
    'out-dir': { type: 'string', short: 'o' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    pushgateway: { type: 'string' },
  },
  help: `Usage:
  loupe gate --candidate new.zip --production prod.zip --eval eval-data/ [--min-delta 0.01]
  loupe gate --candidate new.zip --eval eval.csv          # no production model yet
  loupe gate --candidate out/metrics.json --production prod-metrics.json   # figures recorded by loupe train

The studio's promotion gate, for CI: measures both bundles now, on the same evaluation data, with the
same code, then applies the gate rule (MLflow MetricThreshold semantics: the primary metric must beat
production by at least min_absolute_change and clear its threshold; guard metrics may not regress past
their tolerance). Without --production only the absolute thresholds apply.

Given two metrics.json files of "loupe train" instead of bundles, it compares their recorded figures:
the test split's when both have one, else the val split's, and only when both were measured on the
same dataset version. Flat metrics files of older versions are read as validation figures, with a note.

Writes decision.json (the verdict, the reason, the split and sample count used, both metric sets, every
check, the rule) and best_metrics.json ({"split", "samples", "metrics", "task", "datasetVersion",
"model"}: the figures of the model that should serve — the candidate when promoted, else production;
"metrics" is {} when neither qualifies), and prints the decision to stdout.

Bundles of classifiers are compared only when they predict the same classes: a 2-class
negative/positive model against a 3-class production model exits 5 without measuring either.

Exit code: 0 promote the candidate; 10 keep production (the candidate is not better); other codes are
errors (2 usage, 3 missing file, 4 bad format, 5 wrong task or different classes, 6 evaluation failed).

Options:
      --candidate <zip|json>   the new model bundle, or its metrics.json (required)
      --production <zip|json>  the bundle in production now, or its metrics file (the same kind)
      --eval <path>        evaluation data for bundles, in the formats "loupe train --data" reads.
                           Data that names splits is evaluated on its test split (else its val
                           split) only; data without splits of its own is all held out. The
                           output says which split and how many samples.
      --min-delta <x>      the primary metric's minimum absolute improvement (overrides the rule)
      --rule <json>        a gate rule: {"primary": "accuracy", "metrics": {"accuracy":
                           {"greaterIsBetter": true, "threshold": 0.5, "minAbsoluteChange": 0.01}, …}}
                           (default: the task's, as in the studio)
  -o, --out-dir <dir>      where to write decision.json and best_metrics.json (default: .)
      --seed <n>           accepted for older scripts; --eval data is no longer split at random
      --backend <name>     wasm (default), cpu or auto
${PUSH_OPTION_HELP}
  -h, --help               this help`,
  async run(values, io) {
    const candidatePath = required(values, 'candidate');
    const gatewayOption = pushgatewayOption(values, 'gate');
    const productionPath = optional(values, 'production');
    const minDelta = numberOption(values, 'min-delta', { min: 0 });
    const outDir = optional(values, 'out-dir') ?? '.';
    if (productionPath && isMetricsFile(productionPath) !== isMetricsFile(candidatePath)) {
      throw new UsageError('give two bundles (measured now on --eval) or two metrics files (compared as recorded), not one of each');
    }
    if (isMetricsFile(candidatePath)) {
      if (optional(values, 'eval')) throw new UsageError('--eval measures bundles; metrics files hold figures measured already (give bundles to measure them on --eval)');
      const candidate = await readMetricsFile(candidatePath, '--candidate');
      const production = productionPath ? await readMetricsFile(productionPath, '--production') : undefined;
      const compared = compareRecorded(candidate, production);
      const rule = await readRule(optional(values, 'rule'), compared.task, minDelta);
      const figures: Figures = {
        ...compared,
        measured: 'recorded',
        evalData: { split: compared.split, samples: compared.samples ?? null, datasetVersion: compared.datasetVersion ?? null },
      };
      const side = (path: string, metrics: Record<string, number>): Side => ({ described: { path, metrics }, metrics });
      // Metrics files name no model: their group is the task's (the studio's default model name).
      const gateway = gatewayOption && { ...gatewayOption, model: compared.task ?? 'unknown' };
      return decideAndWrite(io, outDir, rule, figures, side(candidatePath, compared.candidate), productionPath && compared.production ? side(productionPath, compared.production) : undefined, gateway);
    }

    const candidate = await readBundleFile(candidatePath, '--candidate');
    const production = productionPath ? await readBundleFile(productionPath, '--production') : undefined;
    if (production && production.task !== candidate.task) {
      throw new WrongTaskError(`--candidate is a ${candidate.task} model but --production is a ${production.task} model; the gate compares models of one task`);
    }
    const conflict =
      production &&
      classSetConflict(
        { name: `--candidate ${candidate.path}`, labels: savedModelLabels(candidate.bundle.modelJson) },
        { name: `--production ${production.path}`, labels: savedModelLabels(production.bundle.modelJson) },
      );
    if (conflict) throw new WrongTaskError(`${conflict}; nothing was measured`);
    const evalPath = required(values, 'eval');
    const rule = await readRule(optional(values, 'rule'), candidate.task, minDelta);
    const backend = await startBackend(optional(values, 'backend') ?? 'wasm');
    const db = memoryDb();
    try {
      // Data that names no split is held out whole; data that names splits is evaluated on its test
      // split (else val), never on the samples it leaves for training.
      const dataset = await importData(db, io, evalPath, candidate.task, {
        option: '--eval',
        seed: numberOption(values, 'seed', { integer: true }),
        evaluationSet: true,
      });
      // One gate run: both measured now, on the same data, the same backend and the same code.
      const candidateFigures = await measure(db, candidate, dataset);
      const productionFigures = production ? await measure(db, production, dataset) : undefined;
      const { split, samples } = candidateFigures;
      const figures: Figures = {
        task: candidate.task,
        split,
        samples,
        datasetVersion: dataset.id,
        measured: 'now',
        evalData: { path: evalPath, datasetVersion: dataset.id, split, samples, splits: dataset.splits },
        backend: backend.backend,
        notes: split === 'val' ? [`${evalPath} has no test split: both were measured on its val split`] : [],
      };
      return await decideAndWrite(
        io,
        outDir,
        rule,
        figures,
        { described: describeBundle(candidate, candidateFigures.metrics), metrics: candidateFigures.metrics },
        production && productionFigures ? { described: describeBundle(production, productionFigures.metrics), metrics: productionFigures.metrics } : undefined,
        gatewayOption && { ...gatewayOption, model: candidate.bundle.name },
      );
    } finally {
      db.close();
    }
  },
};
