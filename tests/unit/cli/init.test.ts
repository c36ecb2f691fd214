import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/lib/registry/bundle';
import { EXIT } from '../../../src/cli/errors';
import { ensurePretrainedFixtures, hasTorch, PRETRAINED_FILES } from '../../fixtures/pretrained';
import { removeTempDirs, runCli, tempDir, writeCarsFolder, writeJson } from './fixtures';

afterAll(removeTempDirs);

describe.skipIf(!hasTorch)('loupe train --init', () => {
  it('starts from a .safetensors file, then from that bundle as a registered version; the lineage says which', async () => {
    const fixtures = ensurePretrainedFixtures();
    const work = tempDir();
    const cars = writeCarsFolder(work, 12);
    const model = { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32, fineTune: { freezeEpochs: 1, backboneLrMultiplier: 0.1 } };
    const config = writeJson(join(work, 'train.json'), { model, batchSize: 8, earlyStopping: false });
    const weights = join(fixtures, PRETRAINED_FILES.torchvision);

    const first = join(work, 'first', 'cars.zip');
    const fromFile = await runCli('train', '--task', 'car-damage', '--data', cars, '--config', config, '--epochs', '1', '--init', `file:${weights}`, '--out', first);
    expect(fromFile.code, fromFile.err).toBe(EXIT.ok);
    const bundle = await readBundle(readFileSync(first));
    expect(bundle.lineage.params).toMatchObject({ init: `file:${weights}`, model: { fineTune: { freezeEpochs: 1, backboneLrMultiplier: 0.1 } } });
    expect(bundle.lineage.initialWeights).toEqual({
      kind: 'file',
      name: PRETRAINED_FILES.torchvision,
      sha256: createHash('sha256').update(readFileSync(weights)).digest('hex'),
      bytes: readFileSync(weights).byteLength,
      naming: 'torchvision',
    });
    expect(bundle.card).toContain(`First weights: file ${PRETRAINED_FILES.torchvision} (torchvision naming, sha256 `);

    const second = join(work, 'second', 'cars.zip');
    const fromVersion = await runCli('train', '--task', 'car-damage', '--data', cars, '--config', config, '--epochs', '1', '--init', `version:${first}`, '--out', second);
    expect(fromVersion.code, fromVersion.err).toBe(EXIT.ok);
    const child = await readBundle(readFileSync(second));
    expect(child.lineage.initialWeights).toMatchObject({ kind: 'version', name: 'car-damage', version: 1, head: true });
  }, 300_000);

  it('refuses a checkpoint that does not fit, a registry name, and a bad form, with exit 4 and the reason', async () => {
    const fixtures = ensurePretrainedFixtures();
    const work = tempDir();
    const cars = writeCarsFolder(work, 6);
    const config = writeJson(join(work, 'train.json'), { model: { architecture: 'damage-classifier', backbone: 'resnet18', inputSize: 32 }, earlyStopping: false });
    const out = join(work, 'out.zip');
    const wrong = await runCli('train', '--task', 'car-damage', '--data', cars, '--config', config, '--epochs', '1', '--init', `file:${join(fixtures, PRETRAINED_FILES.timm)}`, '--out', out);
    expect(wrong.code, wrong.err).toBe(EXIT.badFormat);
    expect(wrong.err).toMatch(/the checkpoint is a mobilenetv3-small \('conv_stem\.weight' \[16, 3, 3, 3\]\), but the model's backbone is resnet18/);
    const byName = await runCli('train', '--task', 'car-damage', '--data', cars, '--epochs', '1', '--init', 'version:car-damage@3', '--out', out);
    expect(byName.code).toBe(EXIT.badFormat);
    expect(byName.err).toMatch(/the CLI has no registry of its own; give the version's bundle/);
    const badForm = await runCli('train', '--task', 'car-damage', '--data', cars, '--epochs', '1', '--init', 'imagenet', '--out', out);
    expect(badForm.code).toBe(EXIT.badFormat);
    expect(badForm.err).toMatch(/init must be scratch, hub:<owner\/name>, file:<name>\.safetensors or version:<model>@<n>, got "imagenet"/);
  }, 300_000);
});
