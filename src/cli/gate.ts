import { join } from 'node:path';
import type { LoupeDb } from '$lib/db/db';
import type { DatasetRow } from '$lib/db/types';
import { classSetConflict, decide, defaultRule, validateRule } from '$lib/registry/gate';
import type { GateRule } from '$lib/registry/types';
import { savedModelLabels } from '$lib/tasks/labels';
import { evaluateHeldOut } from '$lib/training/evaluate';
import { formatNumber } from '$lib/format';
import { numberOption, optional, required, type Command } from './args';
import { importData } from './data';
import { loadBundleModel, readBundleFile, type BundleFile } from './bundles';
import { BadFormatError, CliError, EXIT, WrongTaskError } from './errors';
import { jsonText, readInputFile, writeOutput } from './files';
import { memoryDb, startBackend } from './runtime';

async function readRule(path: string | undefined, file: BundleFile, minDelta: number | undefined): Promise<GateRule> {
  let rule = defaultRule(file.task);
  if (path) {
    const text = new TextDecoder().decode(await readInputFile(path, '--rule'));
    try {
      rule = validateRule(JSON.parse(text));
    } catch (error) {
      throw new BadFormatError(`--rule ${path}: ${(error as Error).message}`);
    }
  }
  if (minDelta !== undefined) rule.metrics[rule.primary] = { ...rule.metrics[rule.primary]!, minAbsoluteChange: minDelta };
  return rule;
}

/** A bundle's held-out metrics on the evaluation data, measured now with its weights. */
async function measure(db: LoupeDb, file: BundleFile, dataset: DatasetRow): Promise<Record<string, number>> {
  const trainable = await loadBundleModel(file);
  try {
    return await evaluateHeldOut(db, trainable, dataset.id);
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
  },
  help: `Usage:
  loupe gate --candidate new.zip --production prod.zip --eval eval-data/ [--min-delta 0.01]
  loupe gate --candidate new.zip --eval eval.csv          # no production model yet

The studio's promotion gate, for CI: measures both bundles now, on the same evaluation data, with the
same code, then applies the gate rule (MLflow MetricThreshold semantics: the primary metric must beat
production by at least min_absolute_change and clear its threshold; guard metrics may not regress past
their tolerance). Without --production only the absolute thresholds apply.

Writes decision.json (the verdict, the reason, both metric sets, every check, the rule) and
best_metrics.json (the metrics of the model that should serve: the candidate when promoted, else
production; {} when neither qualifies) and prints the decision to stdout.

Classifiers are compared only when they predict the same classes: a 2-class negative/positive model
against a 3-class production model exits 5 without measuring either.

Exit code: 0 promote the candidate; 10 keep production (the candidate is not better); other codes are
errors (2 usage, 3 missing file, 4 bad format, 5 wrong task or different classes, 6 evaluation failed).

Options:
      --candidate <zip>    the new model bundle (required)
      --production <zip>   the bundle in production now
      --eval <path>        evaluation data, in the formats "loupe train --data" reads (required).
                           Its test split is used, else its val split; data without splits of its
                           own is all held out.
      --min-delta <x>      the primary metric's minimum absolute improvement (overrides the rule)
      --rule <json>        a gate rule: {"primary": "accuracy", "metrics": {"accuracy":
                           {"greaterIsBetter": true, "threshold": 0.5, "minAbsoluteChange": 0.01}, …}}
                           (default: the task's, as in the studio)
  -o, --out-dir <dir>      where to write decision.json and best_metrics.json (default: .)
      --seed <n>           seed of the split assignment of --eval data (default 42)
      --backend <name>     wasm (default), cpu or auto
  -h, --help               this help`,
  async run(values, io) {
    const candidate = await readBundleFile(required(values, 'candidate'), '--candidate');
    const productionPath = optional(values, 'production');
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
    const rule = await readRule(optional(values, 'rule'), candidate, numberOption(values, 'min-delta', { min: 0 }));
    const outDir = optional(values, 'out-dir') ?? '.';
    const backend = await startBackend(optional(values, 'backend') ?? 'wasm');
    const db = memoryDb();
    try {
      // Rows without a split of their own all go to `test`: an evaluation set is held out as a whole.
      const dataset = await importData(db, io, evalPath, candidate.task, {
        option: '--eval',
        seed: numberOption(values, 'seed', { integer: true }),
        fractions: { train: 0, val: 0, test: 1 },
      });
      // One gate run: both measured now, on the same data, the same backend and the same code.
      const candidateMetrics = await measure(db, candidate, dataset);
      const productionMetrics = production ? await measure(db, production, dataset) : undefined;
      const verdict = decide(rule, candidateMetrics, productionMetrics);
      const reason = verdict.reason.replaceAll('the champion', 'production');
      const decision = {
        decision: verdict.passed ? 'promote' : 'reject',
        passed: verdict.passed,
        reason,
        task: candidate.task,
        evalData: { path: evalPath, datasetVersion: dataset.id, samples: dataset.sampleCount, splits: dataset.splits },
        backend: backend.backend,
        rule,
        candidate: describeBundle(candidate, candidateMetrics),
        production: production && productionMetrics ? describeBundle(production, productionMetrics) : null,
        checks: verdict.checks.map((c) => ({ ...c, failures: c.failures.map((f) => f.replaceAll('the champion', 'production')) })),
        decidedAt: new Date().toISOString(),
      };
      const best = verdict.passed ? candidateMetrics : (productionMetrics ?? {});
      await writeOutput(join(outDir, 'decision.json'), jsonText(decision));
      await writeOutput(join(outDir, 'best_metrics.json'), jsonText(best));
      for (const check of verdict.checks) {
        const champion = check.champion === undefined ? '' : ` vs production ${formatNumber(check.champion)}`;
        io.err(`${check.passed ? 'pass' : 'FAIL'}  ${check.metric} (${check.role}, ${check.greaterIsBetter ? 'higher' : 'lower'} is better): candidate ${check.candidate === undefined ? '—' : formatNumber(check.candidate)}${champion}\n`);
      }
      io.err(`${reason}\n`);
      io.out(jsonText({ decision: decision.decision, reason, candidate: candidateMetrics, production: productionMetrics ?? null, decisionFile: join(outDir, 'decision.json') }));
      return verdict.passed ? EXIT.ok : EXIT.rejected;
    } finally {
      db.close();
    }
  },
};
