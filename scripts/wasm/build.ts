/**
 * Compiles Loupe's SIMD kernels (src/lib/backends/wasm-kernels/simd/*.wat) with wabt into
 * modules.generated.ts: base64 binaries for the wasm backend's plain and shared (threaded) memory.
 *
 *   npm run wasm:build               # rewrite the generated file
 *   npm run wasm:build -- --check    # exit 1 if the generated file is not what the .wat files compile to
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generatedSource, readSimdSources } from './compile';

const dir = fileURLToPath(new URL('../../src/lib/backends/wasm-kernels/simd/', import.meta.url));
const source = await generatedSource(readSimdSources(dir));
const target = `${dir}modules.generated.ts`;
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== source) {
    console.error(`${target} is out of date: run npm run wasm:build`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, source);
  console.log(`wrote ${target} (${source.length} characters)`);
}
