import * as tf from '@tensorflow/tfjs';
import type { InitialWeights } from '$lib/db/registry-shapes';
import type { ModelSpec, TaskName, TrainJobSpec } from '$lib/db/specs';
import type { TrainableContext, TrainableModel } from '$lib/tasks/types';
import { backbonesOf, type Backbone, type BackboneKind } from '$models/backbones/index';
import { backboneCheckpoint, checkpointBatchNormEpsilon, checkpointLayoutFor, loadTorchWeights, WeightImportError } from '$models/weights/loader';
import type { SafetensorsFile } from '$models/weights/safetensors';

export type { InitialWeights } from '$lib/db/registry-shapes';

/** A run's `init` that cannot be used: its form, or a checkpoint or version that does not fit the model. */
export class InitialWeightsError extends Error {
  override name = 'InitialWeightsError';
}

/** `TrainJobSpec.init`, parsed. */
export type ParsedInit =
  | { kind: 'scratch' }
  | { kind: 'hub'; id: string }
  | { kind: 'file'; name: string }
  | { kind: 'version'; name: string; version: number };

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/**
 * Reads a run's `init`: `scratch` (or nothing), `hub:<owner/name>`, `file:<name>.safetensors` or
 * `version:<model>@<n>`; the error shows each form.
 * @example parseInit('version:coin-year@3') // { kind: 'version', name: 'coin-year', version: 3 }
 */
export function parseInit(init: string | undefined): ParsedInit {
  if (init === undefined || init === '' || init === 'scratch') return { kind: 'scratch' };
  const forms = 'scratch, hub:<owner/name>, file:<name>.safetensors or version:<model>@<n>';
  const colon = init.indexOf(':');
  const kind = colon > 0 ? init.slice(0, colon) : '';
  const rest = init.slice(colon + 1);
  if (kind === 'hub' && HUB_ID.test(rest)) return { kind: 'hub', id: rest };
  if (kind === 'file' && rest.length > 0) return { kind: 'file', name: rest };
  if (kind === 'version') {
    const match = /^(.+)@(\d+)$/.exec(rest);
    if (match) return { kind: 'version', name: match[1]!, version: Number(match[2]) };
  }
  throw new InitialWeightsError(`init must be ${forms}, got ${JSON.stringify(init)}`);
}

/** Where a checkpoint came from, before its tensors were read (the resolver knows; naming comes from the file). */
export type CheckpointSource = Omit<Extract<InitialWeights, { kind: 'hub' }>, 'naming'> | Omit<Extract<InitialWeights, { kind: 'file' }>, 'naming'>;

/** First weights, fetched: a checkpoint's tensors, or a registered version's model (the caller disposes it). */
export type ResolvedInit =
  | { kind: 'checkpoint'; file: SafetensorsFile; source: CheckpointSource }
  | { kind: 'version'; parent: TrainableModel; name: string; version: number; id: string };

/**
 * Fetches what an `init` names. Hubs, files and the registry live in the layers above training, so the
 * caller (the trainer worker, the CLI) supplies this with the job's context.
 */
export type InitialWeightsResolver = (init: Exclude<ParsedInit, { kind: 'scratch' }>, spec: TrainJobSpec) => Promise<ResolvedInit>;

/** The backbone a model spec builds, or undefined for models without one. */
export function specBackbone(model: ModelSpec): BackboneKind | undefined {
  return 'backbone' in model ? model.backbone : undefined;
}

/** What building the model must know of its first weights: their BatchNorm epsilon, and the head's meaning. */
export type InitPlan = Pick<TrainableContext, 'batchNormEpsilon' | 'headFrom'> & { head: boolean };

/**
 * Checks that first weights fit the run's model before anything is built, and what building it needs
 * from them: a checkpoint of another backbone, or a version of another backbone or task, is refused
 * here, naming both.
 */
export function planInit(resolved: ResolvedInit, spec: Pick<TrainJobSpec, 'task' | 'model'>, labels: string[] | undefined): InitPlan {
  const kind = specBackbone(spec.model);
  if (!kind) throw new InitialWeightsError(`first weights need a model with a backbone (resnet18, mobilenetv3-small); ${spec.model.architecture} has none`);
  if (resolved.kind === 'checkpoint') {
    const layout = asInitError(() => checkpointLayoutFor(resolved.file, kind));
    return { batchNormEpsilon: checkpointBatchNormEpsilon(layout), head: false };
  }
  const { parent } = resolved;
  const parentBackbones = backbonesOf(parent.model);
  const parentKind = parentBackbones[0]?.kind;
  if (parentKind !== kind) {
    throw new InitialWeightsError(`${resolved.name} v${resolved.version} has ${parentKind ? `a ${parentKind} backbone` : 'no backbone'}, but this run's backbone is ${kind}: choose a version with the same backbone`);
  }
  const head = headMatches(parent, spec, labels);
  return { batchNormEpsilon: batchNormEpsilonOf(parentBackbones[0]!), head, headFrom: head ? parent.metadata : undefined };
}

/** Same task, architecture, projection and (for classifiers) classes in the same order: the head's weights mean the same. */
function headMatches(parent: TrainableModel, spec: Pick<TrainJobSpec, 'task' | 'model'>, labels: string[] | undefined): boolean {
  const meta = parent.metadata as { architecture?: string; projection?: unknown };
  const projection = 'projection' in spec.model ? (spec.model.projection ?? null) : null;
  return (
    parent.task.name === (spec.task as TaskName) &&
    meta.architecture === spec.model.architecture &&
    JSON.stringify(meta.projection ?? null) === JSON.stringify(projection) &&
    JSON.stringify(parent.labels ?? null) === JSON.stringify(parent.task.kind === 'classification' ? (labels ?? null) : null)
  );
}

function batchNormEpsilonOf(backbone: Backbone): number | undefined {
  const layer = backbone.model.layers.find((l) => l.getClassName() === 'BatchNormalization');
  return layer ? (layer.getConfig()['epsilon'] as number) : undefined;
}

function asInitError<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof WeightImportError) throw new InitialWeightsError(error.message);
    throw error;
  }
}

/**
 * Loads first weights into a freshly built model: a checkpoint into every backbone, or a version's
 * backbones (and head, when `plan.head`). Every tensor is checked before any is written (loadTorchWeights),
 * so a checkpoint that does not fit leaves the model as it was; the error names the tensor and both shapes.
 * Returns what the run records as its first weights.
 */
export async function applyInit(trainable: TrainableModel, resolved: ResolvedInit, plan: InitPlan): Promise<InitialWeights> {
  const backbones = backbonesOf(trainable.model);
  if (resolved.kind === 'checkpoint') {
    const layout = asInitError(() => checkpointLayoutFor(resolved.file, backbones[0]!.kind));
    // The same file goes into each backbone (the two sides of a dual coin model): if the first fits, all do.
    for (const backbone of backbones) asInitError(() => loadTorchWeights(backbone, resolved.file, { naming: layout.naming, prefix: layout.prefix }));
    return { ...resolved.source, naming: layout.naming, ...(plan.batchNormEpsilon ? { batchNormEpsilon: plan.batchNormEpsilon } : {}) };
  }
  const parents = backbonesOf(resolved.parent.model);
  const headWrites: [tf.LayerVariable, tf.Tensor][] = [];
  if (plan.head) {
    const inParent = new Map(resolved.parent.model.weights.map((w) => [w.originalName, w]));
    const backboneWeights = new Set(backbones.flatMap((b) => b.model.weights));
    for (const weight of trainable.model.weights) {
      if (backboneWeights.has(weight)) continue;
      const source = inParent.get(weight.originalName);
      const shape = `[${weight.shape.join(', ')}]`;
      if (!source) throw new InitialWeightsError(`${resolved.name} v${resolved.version} has no head weight '${weight.originalName}' ${shape}`);
      if (source.shape.join() !== weight.shape.join()) {
        throw new InitialWeightsError(`head weight '${weight.originalName}' of ${resolved.name} v${resolved.version} has shape [${source.shape.join(', ')}], expected ${shape}`);
      }
      headWrites.push([weight, source.read()]);
    }
  }
  // Check every backbone before writing one: each checkpoint is complete, so loading it cannot fail half-way.
  const files = await Promise.all(
    backbones.map((backbone) => backboneCheckpoint(parents.find((p) => p.model.name === backbone.model.name) ?? parents[0]!)),
  );
  backbones.forEach((backbone, i) => asInitError(() => loadTorchWeights(backbone, files[i]!, { naming: 'torchvision' })));
  for (const [weight, value] of headWrites) weight.write(value);
  // A resumed warm start resolves the version again, so its epsilon need not be recorded.
  return { kind: 'version', name: resolved.name, version: resolved.version, id: resolved.id, head: plan.head };
}
