import type { Backbone, WeightNaming } from '../../../models/backbones/types';
import { PARAM_LAYOUTS, torchShapeOf } from '../../../models/weights/layout';
import type { SafetensorsFile, SafetensorsTensor } from '../../../models/weights/safetensors';

export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** A safetensors file, byte by byte: u64 LE header length, JSON header, data (offsets in order). */
export function encodeSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  if (metadata) header.__metadata__ = metadata;
  return assemble(JSON.stringify(header), Object.values(tensors).map((t) => t.bytes));
}

/** Length prefix + header text + data chunks, with no checks (to build broken files too). */
export function assemble(headerJson: string, chunks: Uint8Array[] = [], headerLength?: bigint): Uint8Array<ArrayBuffer> {
  const header = new TextEncoder().encode(headerJson);
  const total = 8 + header.byteLength + chunks.reduce((s, c) => s + c.byteLength, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(header.byteLength), true);
  out.set(header, 8);
  let at = 8 + header.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

export function u16Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, v, true));
  return out;
}

export function i64Bytes(values: bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}

/** Deterministic uniform [-1, 1) values (mulberry32). */
export function randomValues(n: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/**
 * A random checkpoint with exactly the tensors (names and torch shapes) the backbone expects, plus the
 * extras a real state dict has (classifier, BN step counters). Variances are positive.
 */
export function torchCheckpoint(backbone: Backbone, naming: WeightNaming, seed = 1): SafetensorsFile {
  const tensors = new Map<string, SafetensorsTensor>();
  let next = seed;
  for (const module of backbone.weightMap(naming).modules) {
    const layer = backbone.model.getLayer(module.layer);
    for (const param of PARAM_LAYOUTS[module.kind]) {
      const variable = layer.weights.find((w) => w.originalName.endsWith(`/${param.tf}`));
      if (!variable) continue;
      const shape = torchShapeOf(variable.shape as number[], param.perm);
      const data = randomValues(shape.reduce((a, b) => a * b, 1), next++);
      if (param.torch === 'running_var') data.forEach((v, i) => (data[i] = 1 + Math.abs(v)));
      tensors.set(`${module.source}.${param.torch}`, { dtype: 'F32', shape, data });
    }
    if (module.kind === 'batchnorm') tensors.set(`${module.source}.num_batches_tracked`, { dtype: 'I64', shape: [], data: new Int32Array([7]) });
  }
  const head = backbone.kind === 'resnet18' ? 'fc' : 'classifier.3';
  tensors.set(`${head}.weight`, { dtype: 'F32', shape: [10, backbone.featureDim], data: randomValues(10 * backbone.featureDim, next++) });
  tensors.set(`${head}.bias`, { dtype: 'F32', shape: [10], data: randomValues(10, next++) });
  return { metadata: { format: 'pt' }, tensors };
}
