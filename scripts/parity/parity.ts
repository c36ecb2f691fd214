/**
 * Compares our backbones with torchvision on the reference from make_reference.py; one JSON line per
 * backbone on stdout, exit status 1 when a parameter count differs or max |Δ| exceeds the tolerance.
 * Usage: npx tsx scripts/parity/parity.ts [dir]   (or `npm run parity` to regenerate the reference first)
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { compareWithTorch, parityHolds, PARITY_TOLERANCE } from './compare';

const dir = process.argv[2] ?? fileURLToPath(new URL('../../models/fixtures/generated', import.meta.url));
await tf.setBackend('cpu');
const results = await compareWithTorch(dir);
for (const result of results) console.log(JSON.stringify(result));
const failed = results.filter((r) => !parityHolds(r));
if (failed.length > 0) {
  console.error(`parity failed (tolerance ${PARITY_TOLERANCE}): ${failed.map((r) => r.backbone).join(', ')}`);
  process.exitCode = 1;
}
