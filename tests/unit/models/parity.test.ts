import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithTorch, PARITY_TOLERANCE } from '../../../scripts/parity/compare';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torchvision'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) {
  console.warn(`[parity] SKIPPED: ${PYTHON} cannot import torchvision — install Debian's python3-torch and python3-torchvision to run it`);
}

describe('parity with torchvision', () => {
  let dir: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    if (!hasTorch) return;
    dir = mkdtempSync(join(tmpdir(), 'loupe-parity-'));
    execFileSync(PYTHON, ['scripts/parity/make_reference.py', dir, '--size', '64', '--batch', '2', '--seed', '3'], { stdio: 'pipe' });
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasTorch)('matches both feature extractors on the same weights and input', async () => {
    const results = await compareWithTorch(dir);
    expect(results.map((r) => r.backbone)).toEqual(['resnet18', 'mobilenetv3-small']);
    for (const result of results) {
      console.log(JSON.stringify(result));
      expect(result.params, result.backbone).toBe(result.torchParams);
      expect(result.maxAbsDiff, result.backbone).toBeLessThanOrEqual(PARITY_TOLERANCE);
    }
  });
});
