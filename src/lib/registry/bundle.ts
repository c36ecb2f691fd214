import { Zip, ZipDeflate, ZipPassThrough, strToU8 } from 'fflate';
import * as v from 'valibot';
import { formatBytes } from '$lib/bytes';
import type { ModelVersionRow } from '$lib/db/types';
import { sha256Hex } from '$lib/hash';
import { canonicalTask, TASK_NAMES } from '$lib/tasks/names';
import { APP_VERSION } from '$lib/version';
import { checkShards, inspectModelJson, MetricsSchema, parseJson, parseWith, SignatureSchema } from './artifacts';
import { InvalidBundleError } from './errors';
import { MODEL_NAME, type ModelRegistry } from './registry';
import { checkWeightsFitTopology } from './topology';
import type { Lineage, ModelSignature } from './types';
import { listZip, readZipEntry, unsafeNameReason, type ZipLimits } from './zip';

/**
 * Model bundles: one zip per version, readable without Loupe.
 *
 * | file | content |
 * |---|---|
 * | `model.json` + `group1-shard…bin` | the tfjs artifacts, under the names the weights manifest uses (`tf.loadLayersModel` loads them) |
 * | `MLmodel` | MLflow-style metadata **as JSON** (a subset of YAML 1.2, so YAML readers parse it too): `flavors.tfjs`, the signature (inputs/outputs as JSON strings, like MLflow), and Loupe's own fields under `loupe` |
 * | `metrics.json` | the version's metrics |
 * | `README.md` | the model card |
 * | `lineage.json` | run, dataset version, params, backend, app version, commit |
 * | `input_example.json` | an example request (optional) |
 * | `checksums.sha256` | `sha256sum` format: the SHA-256 of every other file |
 */

export const BUNDLE_FORMAT = 'loupe-model-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const CHECKSUMS = 'checksums.sha256';
const REQUIRED = ['model.json', 'MLmodel', 'metrics.json', 'lineage.json', 'README.md', CHECKSUMS] as const;
const OPTIONAL = ['input_example.json'] as const;

export interface BundleLimits extends ZipLimits {
  /** Largest text file (model.json, MLmodel, card, …). */
  maxTextBytes: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxArchiveBytes: 512 * 1024 * 1024,
  maxEntries: 512,
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 768 * 1024 * 1024,
  maxTextBytes: 32 * 1024 * 1024,
};

/** The file name a version's bundle is saved under. */
export const bundleFileName = (row: Pick<ModelVersionRow, 'name' | 'version'>) => `${row.name}-v${row.version}.zip`;

/**
 * Exports a version as one zip bundle (see the table above).
 * @example downloadBlob(await exportBundle(row), bundleFileName(row));
 */
export async function exportBundle(row: ModelVersionRow): Promise<Blob> {
  if (!row.modelJson || !row.shards) throw new InvalidBundleError(`${row.name} v${row.version} has no weights to export`);
  const summary = inspectModelJson(row.modelJson);
  checkShards(summary, row.shards.map((s) => s.size));
  const text = (value: unknown) => strToU8(`${JSON.stringify(value, null, 2)}\n`);
  const signature = row.signature as ModelSignature | undefined;
  const mlmodel = {
    artifact_path: 'model',
    flavors: { tfjs: { model_json: 'model.json', format: 'layers-model', weight_files: summary.paths } },
    model_uuid: row.id,
    utc_time_created: new Date(row.createdAt).toISOString(),
    ...(signature
      ? { signature: { inputs: JSON.stringify(signature.inputs), outputs: JSON.stringify(signature.outputs ?? []), params: null } }
      : {}),
    ...(row.exampleInput !== undefined ? { saved_input_example_info: { artifact_path: 'input_example.json', type: 'json_object' } } : {}),
    loupe: {
      format: BUNDLE_FORMAT,
      formatVersion: BUNDLE_FORMAT_VERSION,
      name: row.name,
      version: row.version,
      status: row.status,
      tags: row.tags ?? {},
      ...(row.rejectionReason ? { rejectionReason: row.rejectionReason } : {}),
      exportedWith: APP_VERSION,
    },
  };
  const files: [string, Uint8Array, boolean][] = [
    ['model.json', strToU8(row.modelJson), true],
    ...(await Promise.all(row.shards.map(async (shard, i): Promise<[string, Uint8Array, boolean]> => [summary.paths[i]!, new Uint8Array(await shard.arrayBuffer()), false]))),
    ['MLmodel', text(mlmodel), true],
    ['metrics.json', text(row.metrics), true],
    ['lineage.json', text(row.lineage ?? {}), true],
    ['README.md', strToU8(row.card ?? `# ${row.name} — version ${row.version}\n`), true],
  ];
  if (row.exampleInput !== undefined) files.push(['input_example.json', text(row.exampleInput), true]);
  const sums: string[] = [];
  for (const [name, data] of files) sums.push(`${await sha256Hex(data)}  ${name}`);
  files.push([CHECKSUMS, strToU8(`${sums.join('\n')}\n`), true]);

  const chunks: Uint8Array[] = [];
  let failure: Error | undefined;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else chunks.push(chunk);
  });
  for (const [name, data, compress] of files) {
    // Weight bytes barely compress: store them.
    const entry = compress ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
    zip.add(entry);
    entry.push(data, true);
  }
  zip.end();
  if (failure) throw failure;
  return new Blob(chunks as BlobPart[], { type: 'application/zip' });
}

/** A bundle's content after every check passed. */
export interface ParsedBundle {
  name: string;
  version: number;
  modelJson: string;
  shards: Blob[];
  metrics: Record<string, number>;
  lineage: Lineage;
  card: string;
  signature?: ModelSignature;
  exampleInput?: unknown;
  tags: Record<string, string>;
  sha256: string;
}

const MlModelSchema = v.looseObject({
  flavors: v.looseObject({ tfjs: v.looseObject({ model_json: v.literal('model.json', 'must be "model.json"') }, 'is missing: this is not a tfjs model') }),
  signature: v.optional(v.nullable(v.looseObject({ inputs: v.string('must be the inputs as a JSON string (MLflow)'), outputs: v.optional(v.nullable(v.string())) }))),
  loupe: v.looseObject({
    format: v.literal(BUNDLE_FORMAT, `must be "${BUNDLE_FORMAT}"`),
    formatVersion: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(BUNDLE_FORMAT_VERSION, `is newer than this Loupe reads (${BUNDLE_FORMAT_VERSION}); update Loupe`)),
    name: v.pipe(v.string(), v.regex(MODEL_NAME, 'is not a model name (letters, digits, . _ -)')),
    version: v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be ≥ 1')),
    tags: v.optional(v.record(v.pipe(v.string(), v.maxLength(250)), v.pipe(v.string(), v.maxLength(5000)))),
  }),
});

const LineageSchema = v.looseObject({
  runId: v.optional(v.string()),
  // Bundles exported before image classification was generic say `car-damage`.
  task: v.optional(v.pipe(v.unknown(), v.transform(canonicalTask), v.custom<NonNullable<Lineage['task']>>((task) => task !== undefined, `is not a Loupe task (${TASK_NAMES.join(', ')})`))),
  datasetVersion: v.optional(v.string()),
  datasetName: v.optional(v.string()),
  // The exporting run's params: checked to be an object, as before, not field by field (older releases'
  // runs stored other fields), and typed as what runs store.
  params: v.optional(v.custom<NonNullable<Lineage['params']>>((value) => typeof value === 'object' && value !== null, 'must be an object')),
  seed: v.optional(v.number()),
  backend: v.optional(v.picklist(['webgpu', 'webgl', 'wasm', 'cpu'], 'is not a backend (webgpu, webgl, wasm, cpu)')),
  adapter: v.optional(v.string()),
  appVersion: v.optional(v.string()),
  gitCommit: v.optional(v.string()),
  trainedOn: v.optional(
    v.object({
      targetRange: v.optional(v.object({ min: v.pipe(v.number(), v.finite()), max: v.pipe(v.number(), v.finite()) })),
      lowScore: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    }),
  ),
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and checks a bundle completely — zip structure, names, sizes, checksums, JSON and its
 * schemas, weights against their manifest — without writing anything.
 * @throws InvalidBundleError saying which file and field is wrong
 */
export async function readBundle(file: Blob | Uint8Array, limits: Partial<BundleLimits> = {}): Promise<ParsedBundle> {
  const caps = { ...DEFAULT_BUNDLE_LIMITS, ...limits };
  const size = file instanceof Blob ? file.size : file.byteLength;
  if (size > caps.maxArchiveBytes) throw new InvalidBundleError(`the bundle is ${formatBytes(size)}, more than the ${formatBytes(caps.maxArchiveBytes)} Loupe accepts`);
  const bytes = file instanceof Blob ? new Uint8Array(await file.arrayBuffer()) : file;
  const entries = new Map(listZip(bytes, caps).map((entry) => [entry.name, entry]));

  for (const name of REQUIRED) {
    if (!entries.has(name)) throw new InvalidBundleError(`the bundle has no ${name} (a Loupe model bundle holds ${REQUIRED.join(', ')} and the weight shards)`);
  }
  const contents = new Map<string, Uint8Array>();
  const read = (name: string) => {
    let data = contents.get(name);
    if (!data) contents.set(name, (data = readZipEntry(bytes, entries.get(name)!)));
    return data;
  };
  const text = (name: string) => {
    const entry = entries.get(name)!;
    if (entry.size > caps.maxTextBytes) throw new InvalidBundleError(`is ${formatBytes(entry.size)}, more than the ${formatBytes(caps.maxTextBytes)} a text file of a bundle may have`, name);
    try {
      return utf8.decode(read(name));
    } catch (error) {
      if (error instanceof InvalidBundleError) throw error;
      throw new InvalidBundleError('is not UTF-8 text', name);
    }
  };

  // Checksums first: a file that fails them is not looked at any further.
  const listed = parseChecksums(text(CHECKSUMS));
  for (const name of entries.keys()) {
    if (name !== CHECKSUMS && !listed.has(name)) throw new InvalidBundleError(`is not listed in ${CHECKSUMS}`, name);
  }
  for (const name of listed.keys()) {
    if (!entries.has(name)) throw new InvalidBundleError(`lists ${name}, which the bundle lacks`, CHECKSUMS);
  }
  for (const [name, expected] of listed) {
    const actual = await sha256Hex(read(name));
    if (actual !== expected) throw new InvalidBundleError(`does not match its checksum (SHA-256 ${actual.slice(0, 12)}…, ${CHECKSUMS} says ${expected.slice(0, 12)}…): the file was changed or corrupted`, name);
  }

  const modelJson = text('model.json');
  const summary = inspectModelJson(modelJson, caps.maxTotalBytes);
  checkWeightsFitTopology(JSON.parse(modelJson) as Parameters<typeof checkWeightsFitTopology>[0]);
  const known = new Set<string>([...REQUIRED, ...OPTIONAL]);
  for (const [i, path] of summary.paths.entries()) {
    if (known.has(path)) throw new InvalidBundleError(`names a weight shard "${path}", which is a bundle file`, 'model.json', `weightsManifest paths[${i}]`);
    if (!entries.has(path)) throw new InvalidBundleError(`lists the weight shard ${path}, which the bundle lacks`, 'model.json', 'weightsManifest');
  }
  const shardNames = new Set(summary.paths);
  for (const name of entries.keys()) {
    if (!known.has(name) && !shardNames.has(name)) throw new InvalidBundleError('is not part of a model bundle (not a bundle file, nor a shard model.json lists)', name);
  }
  const shardBytes = summary.paths.map((path) => read(path));
  checkShards(summary, shardBytes.map((b) => b.byteLength));

  const mlmodel = parseWith(MlModelSchema, parseJson(text('MLmodel'), 'MLmodel'), 'MLmodel');
  let signature: ModelSignature | undefined;
  if (mlmodel.signature) {
    const inputs = parseJson(mlmodel.signature.inputs, 'MLmodel signature.inputs');
    const outputs = mlmodel.signature.outputs ? parseJson(mlmodel.signature.outputs, 'MLmodel signature.outputs') : undefined;
    signature = parseWith(SignatureSchema, { inputs, ...(outputs !== undefined ? { outputs } : {}) }, 'MLmodel signature') as ModelSignature;
  }
  const metrics = parseWith(MetricsSchema, parseJson(text('metrics.json'), 'metrics.json'), 'metrics.json');
  const lineage: Lineage = parseWith(LineageSchema, parseJson(text('lineage.json'), 'lineage.json'), 'lineage.json');
  const card = text('README.md');
  if (card.length > 200_000) throw new InvalidBundleError('is longer than 200,000 characters', 'README.md');
  const exampleInput = entries.has('input_example.json') ? parseJson(text('input_example.json'), 'input_example.json') : undefined;

  return {
    name: mlmodel.loupe.name,
    version: mlmodel.loupe.version,
    modelJson,
    shards: shardBytes.map((b) => new Blob([b as Uint8Array<ArrayBuffer>])),
    metrics,
    lineage,
    card,
    ...(signature ? { signature } : {}),
    ...(exampleInput !== undefined ? { exampleInput } : {}),
    tags: mlmodel.loupe.tags ?? {},
    sha256: await sha256Hex(bytes),
  };
}

/** `sha256sum` output → name → hex digest; refuses malformed lines, unsafe or duplicate names. */
function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  for (const [i, line] of lines.entries()) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.replace(/\r$/, ''));
    if (!match) throw new InvalidBundleError(`line ${i + 1} is not "<sha256 hex>  <file name>"`, CHECKSUMS);
    const [, digest, name] = match as unknown as [string, string, string];
    const unsafe = unsafeNameReason(name);
    if (unsafe) throw new InvalidBundleError(`line ${i + 1}: "${name}" ${unsafe}`, CHECKSUMS);
    if (name === CHECKSUMS) throw new InvalidBundleError(`line ${i + 1} lists the checksum file itself`, CHECKSUMS);
    if (out.has(name)) throw new InvalidBundleError(`lists ${name} twice`, CHECKSUMS);
    out.set(name, digest);
  }
  return out;
}

export interface ImportOptions {
  /** Register under this name instead of the bundle's. */
  name?: string;
  limits?: Partial<BundleLimits>;
  trigger?: 'manual' | 'pipeline';
}

/**
 * Checks a bundle completely, then registers it as the next version of its model (status
 * `candidate`: an imported version reaches production only through the gate). Nothing is written
 * when any check fails.
 * @example const row = await importBundle(new ModelRegistry(getDb()), file);
 */
export async function importBundle(registry: ModelRegistry, file: Blob | Uint8Array, options: ImportOptions = {}): Promise<ModelVersionRow> {
  const bundle = await readBundle(file, options.limits);
  return registry.register({
    name: options.name ?? bundle.name,
    modelJson: bundle.modelJson,
    shards: bundle.shards,
    metrics: bundle.metrics,
    lineage: bundle.lineage,
    card: bundle.card,
    tags: bundle.tags,
    ...(bundle.signature ? { signature: bundle.signature } : {}),
    ...(bundle.exampleInput !== undefined ? { exampleInput: bundle.exampleInput } : {}),
    importedFrom: { name: bundle.name, version: bundle.version, bundleSha256: bundle.sha256, importedAt: Date.now() },
    trigger: options.trigger,
  });
}
