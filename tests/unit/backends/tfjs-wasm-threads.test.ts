import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { tfjsWasmThreadsPlugin } from '../../../scripts/vite/tfjs-wasm-threads';
import { LOGICAL_CORES_GLOBAL, useEveryCoreForWasm } from '../../../src/lib/backends/wasm-pool';
import { gemmHelpersWanted, useEveryCoreForTraining, useGemmHelpers } from '../../../src/lib/backends/gemm-threads';

const threadedFactoryPath = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');

type Transform = (this: { error(message: string): never }, code: string, id: string) => { code: string } | null;

function transform(code: string, id = threadedFactoryPath): { code: string } | null {
  const hook = tfjsWasmThreadsPlugin().transform as Transform;
  return hook.call({ error: (message) => { throw new Error(message); } }, code, id);
}

/**
 * Whether the factory tfjs stringifies into the pthread workers' Blob reads `name` from outside itself
 * (which the Blob copy would not have): it uses the name and no `var` of its own body declares it.
 */
function factoryReadsFromOutside(code: string, name: string): boolean {
  const file = ts.createSourceFile('factory.js', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  let factory: ts.FunctionExpression | undefined;
  const find = (node: ts.Node): void => {
    if (ts.isFunctionExpression(node) && node.parameters[0]?.name.getText() === 'WasmBackendModuleThreadedSimd') factory = node;
    else ts.forEachChild(node, find);
  };
  find(file);
  if (!factory) throw new Error('factory function not found');
  let used = false;
  let declared = false;
  const walk = (node: ts.Node, nested: boolean): void => {
    if (ts.isIdentifier(node) && node.text === name) used = true;
    if (!nested && ts.isVariableDeclaration(node) && node.name.getText() === name) declared = true;
    ts.forEachChild(node, (child) => walk(child, nested || ts.isFunctionLike(child)));
  };
  ts.forEachChild(factory.body, (child) => walk(child, ts.isFunctionLike(child)));
  return used && !declared;
}

describe('tfjs threaded wasm factory, as bundled', () => {
  const original = readFileSync(threadedFactoryPath, 'utf8');

  it("reads _scriptDir from its enclosing closure as published, which a Blob copy lacks", () => {
    expect(factoryReadsFromOutside(original, '_scriptDir')).toBe(true);
  });

  it('is self-contained after the transform', () => {
    const patched = transform(original)!.code;
    expect(factoryReadsFromOutside(patched, '_scriptDir')).toBe(false);
    expect(patched.length - original.length).toBeLessThan(200); // nothing else changed
  });

  it("reports the trainer's core count to the pool when a context sets one, else the browser's", () => {
    const source = /function _emscripten_num_logical_cores\(\)\{[^}]*\}/.exec(transform(original)!.code)![0];
    const logicalCores = () => new Function('ENVIRONMENT_IS_NODE', 'navigator', `${source}; return _emscripten_num_logical_cores();`)(false, { hardwareConcurrency: 2 }) as number;
    expect(logicalCores()).toBe(2); // tfjs halves it: a pool of one
    try {
      useEveryCoreForWasm(2);
      expect(logicalCores()).toBe(4); // a pool of two
      useEveryCoreForWasm(64);
      expect(logicalCores()).toBe(16); // a pool of eight, Emscripten's eight pthread workers
    } finally {
      delete (globalThis as Record<string, unknown>)[LOGICAL_CORES_GLOBAL];
    }
  });

  it("gives the trainer's XNNPACK its own thread and Loupe's kernels a helper thread per further core", () => {
    const source = /function _emscripten_num_logical_cores\(\)\{[^}]*\}/.exec(transform(original)!.code)![0];
    const logicalCores = () => new Function('ENVIRONMENT_IS_NODE', 'navigator', `${source}; return _emscripten_num_logical_cores();`)(false, { hardwareConcurrency: 16 }) as number;
    const spawn = () => ({ terminate() {} });
    try {
      useEveryCoreForTraining(spawn, 16);
      expect(logicalCores()).toBe(2); // tfjs halves it: a pool of one
      expect(gemmHelpersWanted()).toEqual({ count: 7, spawn }); // eight threads at most
      useEveryCoreForTraining(spawn, 1);
      expect(gemmHelpersWanted()).toBeUndefined();
    } finally {
      delete (globalThis as Record<string, unknown>)[LOGICAL_CORES_GLOBAL];
      useGemmHelpers(0, spawn);
    }
  });

  it('leaves every other module alone, and fails the build when tfjs changes shape', () => {
    expect(transform(original, '/x/node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js')).toBeNull();
    expect(() => transform('var WasmBackendModuleThreadedSimd = 1;')).toThrow(/tfjs-backend-wasm changed/);
  });
});
