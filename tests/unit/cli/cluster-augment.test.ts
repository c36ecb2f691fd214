import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/errors';
import { augmentRgb, cropWindow, NO_AUGMENTATION, type AugmentOptions } from '../../../src/lib/images/augment';
import { deriveSeed, mulberry32 } from '../../../src/lib/random';
import { hasTorch, PYTHON, readJsonFile, trainJob } from './cluster-fixtures';
import { removeTempDirs, runCli, tempDir, writeCarsFolder, writeJson } from './fixtures';

const CLUSTER = fileURLToPath(new URL('../../../models/cluster', import.meta.url));
const SIZE = 32;

/** A sample's generator as loupe_ddp draws it (and the studio's seeded stream): seed, epoch, sample. */
const stream = (seed: number, epoch: number, sample: number) => mulberry32(deriveSeed(seed, 'augment', epoch, sample));

const POLICIES: Record<string, AugmentOptions> = {
  'crop only': { ...NO_AUGMENTATION, cropScale: [0.3, 1] },
  // A near-whole crop fits only with an aspect ratio within 0.999–1.001: ten misses, then the whole image.
  'near-whole crop': { ...NO_AUGMENTATION, cropScale: [0.999, 1] },
  'everything': { cropScale: [0.35, 0.8], flip: true, rotateDegrees: 15, brightness: 0.2, contrast: 0.3 },
  'no crop': { flip: true, rotateDegrees: 10, brightness: 0.1, contrast: 0.1 },
};
const SEEDS = [1, 42, 2024, 99991];

/** A 32×32 RGB picture with detail everywhere (a misplaced crop shows), the same for every case. */
const pixels = Uint8Array.from({ length: SIZE * SIZE * 3 }, (_, i) => {
  const [x, y, c] = [Math.floor(i / 3) % SIZE, Math.floor(i / 3 / SIZE), i % 3];
  return (x * 7 + y * 13 + c * 50 + ((x * y) % 17) * 5) % 256;
});

const PROGRAM = `
import json, sys
import numpy as np
from loupe_ddp.data import augment, crop_window, derive_seed, mulberry32
request = json.load(sys.stdin)
pixels = np.array(request["pixels"], dtype=np.uint8).reshape(request["size"], request["size"], 3)
out = []
for case in request["cases"]:
    options, seed = case["options"], case["seed"]
    boxes = mulberry32(derive_seed(seed, "augment", 3, 5))
    for _ in range(4):
        boxes()  # flip, angle, brightness, contrast come first
    scale = options.get("cropScale")
    box = crop_window(request["size"], scale, boxes) if scale else None
    image = augment(pixels, mulberry32(derive_seed(seed, "augment", 3, 5)), options)
    out.append({"box": box, "pixels": image.reshape(-1).tolist()})
json.dump(out, sys.stdout)
`;

afterAll(removeTempDirs);

describe.skipIf(!hasTorch)("loupe_ddp's augmentation against the studio's (Debian python3)", () => {
  it("draws the studio's crop boxes from the same seeded stream, and crops, turns and resizes to the same pixels", () => {
    const cases = Object.entries(POLICIES).flatMap(([name, options]) => SEEDS.map((seed) => ({ name, seed, options })));
    const result = spawnSync(PYTHON, ['-c', PROGRAM], { cwd: CLUSTER, input: JSON.stringify({ size: SIZE, pixels: [...pixels], cases }), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(result.status, result.stderr).toBe(0);
    const python = JSON.parse(result.stdout) as { box: { x: number; y: number; w: number; h: number } | null; pixels: number[] }[];

    let worst = 0;
    let fellBack = 0;
    cases.forEach(({ name, seed, options }, i) => {
      const where = `${name}, seed ${seed}`;
      if (options.cropScale) {
        const random = stream(seed, 3, 5);
        for (let k = 0; k < 4; k++) random();
        const box = cropWindow(SIZE, options.cropScale, random);
        if (box.w === SIZE && box.h === SIZE && box.x === 0) fellBack++;
        // Each coordinate is a few float64 operations on the same draws: equal up to a last-bit difference in exp/log/sqrt.
        for (const key of ['x', 'y', 'w', 'h'] as const) expect(python[i]!.box![key], `${where}: ${key}`).toBeCloseTo(box[key], 12);
      } else expect(python[i]!.box, where).toBeNull();
      const studio = augmentRgb(pixels, SIZE, stream(seed, 3, 5), options);
      expect(python[i]!.pixels, where).toHaveLength(studio.length);
      const gap = Math.max(...studio.map((v, j) => Math.abs(v - python[i]!.pixels[j]!)));
      worst = Math.max(worst, gap);
      // Both resample in float64 with the same bilinear formula (not tfjs' resizeBilinear nor torch's): what
      // differs is float32 rounding — the studio stores each pixel as float32 before the contrast step, the
      // port after — about 255 × 2⁻²⁴ ≈ 1.5e-5 per step, scaled by the contrast (≤ 1.3).
      expect(gap, `${where}: largest pixel gap`).toBeLessThan(1e-4);
    });
    expect(fellBack, 'crops that fell back to the whole image').toBeGreaterThan(0);
    console.log(`[cluster] augmentation, studio vs loupe_ddp: ${cases.length} cases, largest pixel gap ${worst.toExponential(2)}, ${fellBack} crop(s) fell back to the whole image`);
    // The crop moved pixels: a policy with one is not the identity (the comparison is not vacuous).
    const plain = augmentRgb(pixels, SIZE, stream(1, 3, 5), NO_AUGMENTATION);
    const cropped = augmentRgb(pixels, SIZE, stream(1, 3, 5), POLICIES['crop only']!);
    expect(Math.max(...cropped.map((v, j) => Math.abs(v - plain[j]!)))).toBeGreaterThan(20);
  });

  it('exports a job whose policy crops (the export refused it before), and train.py trains an epoch with it', async () => {
    const dir = tempDir('loupe-ddp-crop-');
    const augmentation = { cropScale: [0.4, 0.9], flip: true, rotateDegrees: 0, brightness: 0, contrast: 0 };
    const config = writeJson(join(dir, 'cars.json'), {
      model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32, dropout: 0, projection: null, augmentation },
      epochs: 1,
      batchSize: 4,
      learningRate: 0.001,
      splits: { train: 0.5, val: 0.25, test: 0.25 },
    });
    const job = join(dir, 'job');
    const exported = await runCli('export-job', '--task', 'car-damage', '--data', writeCarsFolder(dir, 16, 32), '--config', config, '--out', job);
    expect(exported.code, exported.err).toBe(EXIT.ok);
    expect(readJsonFile<{ augmentation: unknown }>(join(job, 'job.json')).augmentation).toEqual(augmentation);
    const out = join(dir, 'out');
    await trainJob(job, out, 1);
    const metrics = readJsonFile<{ history: { epoch: number; metrics: Record<string, number> }[] }>(join(out, 'metrics.json'));
    expect(metrics.history.map((h) => h.epoch)).toEqual([1]);
    expect(Number.isFinite(metrics.history[0]!.metrics.loss)).toBe(true);
  }, 240_000);
});
