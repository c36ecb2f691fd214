import * as tf from '@tensorflow/tfjs';
// Registers HardSwish/HardSigmoid, so a loaded MobileNetV3 deserializes wherever io.ts is used.
import './backbones/activations';

/**
 * A saved tfjs model as the registry stores it (CheckpointRow / ModelVersionRow): model.json text and one
 * Blob per weight shard, in the order of `weightsManifest[0].paths`.
 */
export interface SavedModelBlobs {
  modelJson: string;
  shards: Blob[];
}

/** A file of the standard tfjs web format (model.json + .bin shards), ready to download or zip. */
export interface ArtifactFile {
  name: string;
  blob: Blob;
}

/** Shards stay small: one huge ArrayBuffer runs browsers out of memory (tensorflow/tfjs#7702). */
export const MAX_SHARD_BYTES = 4 * 1024 * 1024;

export interface SaveBlobsOptions {
  /** Also save the optimizer's state (tfjs `includeOptimizer`), e.g. for a checkpoint. */
  includeOptimizer?: boolean;
  maxShardBytes?: number;
}

/**
 * A tfjs save handler that produces `SavedModelBlobs`; `saved` resolves once `model.save` has run.
 * @example const { handler, saved } = blobsSaveHandler(); await model.save(handler); const row = await saved;
 */
export function blobsSaveHandler(maxShardBytes = MAX_SHARD_BYTES): { handler: tf.io.IOHandler; saved: Promise<SavedModelBlobs> } {
  if (!Number.isInteger(maxShardBytes) || maxShardBytes <= 0) throw new RangeError(`maxShardBytes must be a positive integer, got ${maxShardBytes}`);
  let resolve!: (saved: SavedModelBlobs) => void;
  let reject!: (error: unknown) => void;
  const saved = new Promise<SavedModelBlobs>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const handler = tf.io.withSaveHandler(async (artifacts) => {
    try {
      const shards = shardWeights(artifacts.weightData, maxShardBytes);
      const paths = shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      resolve({ modelJson: JSON.stringify(modelJson), shards });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    } catch (error) {
      reject(error);
      throw error;
    }
  });
  return { handler, saved };
}

/**
 * Saves a model as model.json text + weight shards of at most 4 MiB each.
 * @example const { modelJson, shards } = await saveToBlobs(model); await db.checkpoints.put({ …, modelJson, shards });
 */
export async function saveToBlobs(model: tf.LayersModel, options: SaveBlobsOptions = {}): Promise<SavedModelBlobs> {
  const { handler, saved } = blobsSaveHandler(options.maxShardBytes ?? MAX_SHARD_BYTES);
  await model.save(handler, { includeOptimizer: options.includeOptimizer ?? false });
  return saved;
}

/** Splits the weight bytes into Blobs of ≤ maxBytes without first joining them into one ArrayBuffer. */
function shardWeights(weightData: tf.io.WeightData | undefined, maxBytes: number): Blob[] {
  const buffers = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
  const shards: Blob[] = [];
  let parts: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (const buffer of buffers) {
    for (let offset = 0; offset < buffer.byteLength; ) {
      const take = Math.min(maxBytes - size, buffer.byteLength - offset);
      parts.push(new Uint8Array(buffer, offset, take));
      size += take;
      offset += take;
      if (size === maxBytes) {
        shards.push(new Blob(parts));
        parts = [];
        size = 0;
      }
    }
  }
  if (size > 0 || shards.length === 0) shards.push(new Blob(parts));
  return shards;
}

/**
 * A tfjs load handler over `SavedModelBlobs`; shards stay separate ArrayBuffers (tfjs joins them lazily).
 * A model saved with `includeOptimizer` comes back compiled with its optimizer state, unless it was compiled
 * with a function loss (tfjs cannot name it): then it comes back uncompiled, without optimizer state.
 * @example const model = await tf.loadLayersModel(blobsLoadHandler(row));
 */
export function blobsLoadHandler(saved: SavedModelBlobs): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJson = parseModelJson(saved.modelJson);
      if (modelJson.trainingConfig && !hasLossName(modelJson.trainingConfig)) {
        // A function loss (e.g. coinYearLoss) saves as `loss: {}`; tfjs would compile the loaded model
        // with no loss at all. Load it uncompiled instead: the caller compiles with the loss again.
        delete modelJson.trainingConfig;
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const paths = manifest.flatMap((group) => group.paths);
        if (paths.length !== saved.shards.length) {
          throw new Error(`model.json lists ${paths.length} weight shard(s) but ${saved.shards.length} were given`);
        }
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = await Promise.all(saved.shards.map((shard) => shard.arrayBuffer()));
        const bytes = buffers.reduce((sum, b) => sum + b.byteLength, 0);
        const expected = specs.reduce((sum, spec) => sum + specBytes(spec), 0);
        if (bytes !== expected) throw new Error(`weight shards hold ${bytes} bytes but model.json's weights need ${expected}`);
        return [specs, buffers];
      });
    },
  };
}

function hasLossName(config: tf.io.TrainingConfig): boolean {
  const loss = config.loss as unknown;
  return typeof loss === 'string' || (Array.isArray(loss) && loss.length > 0) || (typeof loss === 'object' && loss !== null && Object.keys(loss).length > 0);
}

function parseModelJson(text: string): tf.io.ModelJSON {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`model.json is not valid JSON: ${(error as Error).message}`);
  }
  const modelJson = json as Partial<tf.io.ModelJSON> | null;
  if (!modelJson?.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new Error('model.json needs modelTopology and weightsManifest (tfjs layers-model format)');
  }
  return modelJson as tf.io.ModelJSON;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = DTYPE_BYTES[dtype];
  if (bytes === undefined) throw new Error(`weight '${spec.name}' has unsupported dtype ${dtype}`);
  return count * bytes;
}

/**
 * Loads a model saved with `saveToBlobs` (custom layers of models/ must be imported, as they are here).
 * What `tf.loadLayersModel` does, except that a model whose weights do not fit frees what it allocated:
 * tfjs keeps the network's variables and the decoded weights when `loadWeights` throws.
 * @example const model = await loadFromBlobs({ modelJson: row.modelJson, shards: row.shards });
 */
export async function loadFromBlobs(saved: SavedModelBlobs, options: { strict?: boolean } = {}): Promise<tf.LayersModel> {
  const artifacts = await blobsLoadHandler(saved).load!();
  const model = await tf.models.modelFromJSON({ modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'] });
  try {
    // tfjs-core and tfjs-layers each declare TrainingConfig; tf.loadLayersModel passes one as the other too.
    if (artifacts.trainingConfig) model.loadTrainingConfig(artifacts.trainingConfig as Parameters<tf.LayersModel['loadTrainingConfig']>[0]);
    if (artifacts.userDefinedMetadata) model.setUserDefinedMetadata(artifacts.userDefinedMetadata);
    if (artifacts.weightData && artifacts.weightSpecs) {
      // Optimizer slots (saved with `includeOptimizer`) go to the optimizer, the rest to the layers.
      const weights = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
      const groupOf = (optimizer: boolean) =>
        artifacts.weightSpecs!.filter((spec) => (spec.group === 'optimizer') === optimizer).map((spec) => ({ name: spec.name, tensor: weights[spec.name]! }));
      try {
        model.loadWeights(Object.fromEntries(groupOf(false).map((w) => [w.name, w.tensor])), options.strict ?? true);
        const slots = groupOf(true);
        if (model.optimizer && slots.length > 0) await model.optimizer.setWeights(slots);
      } finally {
        tf.dispose(Object.values(weights));
      }
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The standard tfjs web artifacts — `model.json` plus its `.bin` shards, under the names model.json
 * refers to — so `tf.loadLayersModel('…/model.json')` can load them once served side by side.
 * @example for (const { name, blob } of await toDownloadableArtifacts(model)) download(name, blob);
 */
export async function toDownloadableArtifacts(source: tf.LayersModel | SavedModelBlobs, options: SaveBlobsOptions = {}): Promise<ArtifactFile[]> {
  const saved = source instanceof tf.LayersModel ? await saveToBlobs(source, options) : source;
  const paths = parseModelJson(saved.modelJson).weightsManifest.flatMap((group) => group.paths);
  if (paths.length !== saved.shards.length) throw new Error(`model.json lists ${paths.length} weight shard(s) but ${saved.shards.length} were given`);
  return [
    { name: 'model.json', blob: new Blob([saved.modelJson], { type: 'application/json' }) },
    ...paths.map((name, i) => ({ name, blob: saved.shards[i]! })),
  ];
}
