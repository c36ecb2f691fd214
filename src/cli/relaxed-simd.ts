import { setFlagsFromString } from 'node:v8';

/**
 * Lets this Node compile WebAssembly relaxed SIMD, which Node 20 keeps behind a V8 flag (Chromium ships
 * it): Loupe's GEMMs then multiply-add in one instruction (src/lib/backends/wasm-kernels/simd/module.ts
 * validates it once and falls back where it is absent). NODE_OPTIONS refuses the flag, so it is set here,
 * before any kernel module compiles; flags are process-wide, so tfjs's pthread workers see it too.
 */
export function enableRelaxedSimdInNode(): void {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}
