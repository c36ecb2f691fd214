import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { enableRelaxedSimdInNode } from '../../src/cli/relaxed-simd';
import { useThreadedWasmInNode } from '../../src/cli/wasm-threads';

/**
 * Starts tfjs's wasm backend in Node, reading the .wasm binaries from node_modules: the threaded build with
 * `threads` XNNPACK threads, as the `loupe` command runs it, or tfjs's single-threaded build for `threads` 1.
 */
export async function startWasm(threads = os.availableParallelism()): Promise<void> {
  enableRelaxedSimdInNode();
  if (threads > 1) useThreadedWasmInNode(threads);
  const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  setWasmPaths(`${dirname(wasmFile)}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start in Node');
  await tf.ready();
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  tfjs: string;
  wasmSimd: boolean;
  wasmThreads: boolean;
  /** XNNPACK's pool in the wasm backend (1 in the single-threaded build). */
  wasmPool: number;
  /** 1-minute load averages at start and end: on a shared machine, read figures against them. */
  loadStart: number;
  loadEnd?: number;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    wasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    wasmThreads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    wasmPool: tf.getBackend() === 'wasm' ? getThreadsCount() : 1,
    loadStart: os.loadavg()[0]!,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Prints rows as an aligned text table (first column left-aligned, the rest right-aligned). */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row));
}
