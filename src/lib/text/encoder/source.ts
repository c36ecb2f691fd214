import type { LoupeDb } from '$lib/db/db';
import type { EncoderRef, ModelRef, ModelSource, Pooling } from '$lib/db/specs';

export type { EncoderRef, ModelRef, ModelSource, Pooling } from '$lib/db/specs';

/** The "Text encoder source" settings: the baseline classifier and the frozen encoder of head models. */
export interface TextModelSettings {
  classifier: ModelRef;
  encoder: EncoderRef;
}

export const HUB_HOST = 'https://huggingface.co/';
export const DEFAULT_PATH_TEMPLATE = '{model}/resolve/{revision}/';
export const SENTIMENT_BASELINE_ID = 'Xenova/twitter-roberta-base-sentiment-latest';
/**
 * The Xenova export of the sentiment RoBERTa outputs only logits, so it cannot give hidden states; the
 * default encoder is a small feature-extraction export instead (docs/sentiment.md shows how to export
 * the same RoBERTa for feature extraction and select it).
 */
export const DEFAULT_ENCODER_ID = 'Xenova/all-MiniLM-L6-v2';

export const DEFAULT_TEXT_MODELS: TextModelSettings = {
  classifier: { source: { kind: 'hub', modelId: SENTIMENT_BASELINE_ID }, quantized: true },
  encoder: { source: { kind: 'hub', modelId: DEFAULT_ENCODER_ID }, quantized: true, pooling: 'mean' },
};

export const TEXT_MODELS_SETTING = 'textModels';

export class ModelSourceError extends Error {
  override name = 'ModelSourceError';
}

const MODEL_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
const FOLDER_NAME = /^[\w.-]{1,100}$/;

/** Checks a source; the error names the field and what was expected. */
export function validateSource(source: ModelSource, field = 'source'): ModelSource {
  switch (source.kind) {
    case 'hub':
      if (!MODEL_ID.test(source.modelId)) throw new ModelSourceError(`${field}.modelId must look like "owner/name", got ${JSON.stringify(source.modelId)}`);
      return source;
    case 'host': {
      if (!MODEL_ID.test(source.modelId)) throw new ModelSourceError(`${field}.modelId must look like "owner/name", got ${JSON.stringify(source.modelId)}`);
      let url: URL;
      try {
        url = new URL(source.host);
      } catch {
        throw new ModelSourceError(`${field}.host must be an http(s) URL, got ${JSON.stringify(source.host)}`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ModelSourceError(`${field}.host must be an http(s) URL, got ${source.host}`);
      if (source.pathTemplate !== undefined && !source.pathTemplate.includes('{model}')) {
        throw new ModelSourceError(`${field}.pathTemplate must contain {model}, got ${JSON.stringify(source.pathTemplate)}`);
      }
      return source;
    }
    case 'folder':
      if (!FOLDER_NAME.test(source.name)) throw new ModelSourceError(`${field}.name must be a folder name (letters, digits, . _ -), got ${JSON.stringify(source.name)}`);
      return source;
    case 'path':
      if (!source.path) throw new ModelSourceError(`${field}.path must not be empty`);
      return source;
    default:
      throw new ModelSourceError(`${field}.kind must be hub, host, folder or path, got ${JSON.stringify((source as { kind: unknown }).kind)}`);
  }
}

/**
 * A stable identity of a model (source + weights file), used as the embedding cache's `encoder` key and
 * in registered versions' lineage.
 * @example modelKey({ source: { kind: 'hub', modelId: 'Xenova/all-MiniLM-L6-v2' }, quantized: true }) // 'hub:Xenova/all-MiniLM-L6-v2#q8'
 */
export function modelKey(ref: ModelRef & { pooling?: Pooling }): string {
  const { source } = ref;
  const where =
    source.kind === 'hub'
      ? `hub:${source.modelId}`
      : source.kind === 'host'
        ? `host:${source.host.replace(/\/+$/, '')}/${source.modelId}`
        : source.kind === 'folder'
          ? `folder:${source.name}`
          : `path:${source.path}`;
  return `${where}#${ref.quantized ? 'q8' : 'fp32'}${ref.pooling ? `#${ref.pooling}` : ''}`;
}

/** A short human description: "Xenova/… (hub, quantized)". */
export function describeSource(ref: ModelRef): string {
  const { source } = ref;
  const what =
    source.kind === 'hub'
      ? `${source.modelId} (hub`
      : source.kind === 'host'
        ? `${source.modelId} (${source.host}`
        : source.kind === 'folder'
          ? `${source.name} (local folder`
          : `${source.path} (path`;
  return `${what}, ${ref.quantized ? 'quantized' : 'fp32'})`;
}

/** The stored text-model settings, with defaults for whatever was never set. */
export async function getTextModelSettings(db: LoupeDb): Promise<TextModelSettings> {
  const row = await db.settings.get(TEXT_MODELS_SETTING);
  const stored = (row?.value ?? {}) as Partial<TextModelSettings>;
  return {
    classifier: { ...DEFAULT_TEXT_MODELS.classifier, ...stored.classifier },
    encoder: { ...DEFAULT_TEXT_MODELS.encoder, ...stored.encoder },
  };
}

export async function setTextModelSettings(db: LoupeDb, settings: TextModelSettings): Promise<void> {
  validateSource(settings.classifier.source, 'classifier.source');
  validateSource(settings.encoder.source, 'encoder.source');
  if (settings.encoder.pooling !== 'mean' && settings.encoder.pooling !== 'cls') {
    throw new ModelSourceError(`encoder.pooling must be mean or cls, got ${JSON.stringify(settings.encoder.pooling)}`);
  }
  await db.settings.put({ key: TEXT_MODELS_SETTING, value: settings });
}
