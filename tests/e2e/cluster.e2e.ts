import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { strFromU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCoins } from '../../src/lib/datasets/demo/coins';
import { openStudio, type Studio } from './harness';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torchvision'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.warn(`[cluster e2e] SKIPPED: ${PYTHON} cannot import torchvision — install Debian's python3-torch and python3-torchvision`);

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

function zipFolder(root: string): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(root, path)] = new Uint8Array(readFileSync(path));
    }
  };
  walk(root);
  return zipSync(files, { level: 0 });
}

describe.skipIf(!hasTorch)('a job for a PyTorch cluster, from the Train page and back through the Registry', () => {
  let studio: Studio;
  let dir: string;
  let datasetVersion: string;

  beforeAll(async () => {
    // The CLI exports the job and PyTorch trains it (one process, 1 epoch at 64 px), as a team's cluster would.
    dir = mkdtempSync(join(tmpdir(), 'loupe-cluster-e2e-'));
    const coins = join(dir, 'coins');
    mkdirSync(join(coins, 'images'), { recursive: true });
    const rows = generateCoins({ count: 24, size: 64 }).map((coin, i) => {
      writeFileSync(join(coins, 'images', `${coin.id}_front.png`), coin.front);
      writeFileSync(join(coins, 'images', `${coin.id}_back.png`), coin.back);
      return `images/${coin.id}_front.png,images/${coin.id}_back.png,${coin.year},${i < 16 ? 'train' : i < 20 ? 'val' : 'test'}`;
    });
    writeFileSync(join(coins, 'manifest.csv'), `front,back,year,split\n${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', inputSize: 64 }, epochs: 1, batchSize: 8 }));
    const exported = JSON.parse(run(process.execPath, [join(process.cwd(), 'bin', 'loupe.mjs'), 'export-job', '--task', 'coin-year', '--data', 'coins', '--config', 'job.json', '--out', 'job'], dir));
    datasetVersion = exported.datasetVersion as string;
    run(PYTHON, ['train.py', '--out', join(dir, 'output')], join(dir, 'job'));
    writeFileSync(join(dir, 'coins-dataset.zip'), zipFolder(join(dir, 'job', 'dataset')));

    studio = await openStudio();
    await studio.goto('settings');
    await studio.page.getByLabel('Backend for training and inference').selectOption('wasm');
  }, 300_000);
  afterAll(async () => {
    await studio?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports the job’s dataset folder as the very version the job names', async () => {
    const { page } = studio;
    await studio.goto('datasets');
    await page.getByLabel('Task').selectOption('coin-year');
    await page.getByLabel('Files or zip').setInputFiles(join(dir, 'coins-dataset.zip'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const result = page.getByTestId('import-result');
    await result.waitFor({ timeout: 60_000 });
    await expect(result.textContent()).resolves.toContain(`version ${datasetVersion.slice(0, 12)}, 24 samples`);
  });

  it('downloads the Train page’s run as a cluster job: that dataset version, job.json and the Python', async () => {
    const { page } = studio;
    await studio.goto('train');
    await page.getByLabel('Task').selectOption('coin-year');
    await page.getByLabel('Dataset version').selectOption(datasetVersion);
    await page.getByRole('combobox', { name: /^Backbone/ }).selectOption('mobilenetv3-small');
    await page.getByLabel('Input size').selectOption('64');
    await page.getByLabel('Epochs', { exact: true }).fill('3');
    const download = page.waitForEvent('download', { timeout: 120_000 });
    await page.getByRole('button', { name: 'Run on a cluster…' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/-cluster-job\.zip$/);
    const files = unzipSync(new Uint8Array(readFileSync(await file.path())));
    const job = JSON.parse(strFromU8(files['job.json']!));
    expect(job).toMatchObject({ format: 'loupe-job', datasetVersion, spec: { epochs: 3 }, model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', inputSize: 64 } });
    for (const name of ['train.py', 'loupe_ddp/train.py', 'README.md', 'init.safetensors', 'dataset/loupe-dataset.json']) expect(files[name], name).toBeDefined();
    expect(JSON.parse(strFromU8(files['dataset/loupe-dataset.json']!)).samples).toHaveLength(24);
  });

  it('registers the weights PyTorch trained, with who trained them, and refuses an edited job', async () => {
    const { page } = studio;
    await studio.goto('registry');
    const form = page.getByRole('form', { name: 'Import trained weights' });
    const output = join(dir, 'output');
    const job = readFileSync(join(output, 'job.json'), 'utf8');
    const edited = JSON.stringify({ ...JSON.parse(job), seed: 7 });
    await form.getByLabel('Weights (model.safetensors)').setInputFiles(join(output, 'model.safetensors'));
    await form.getByLabel('Metrics (metrics.json)').setInputFiles(join(output, 'metrics.json'));
    await form.getByLabel('Job (job.json)').setInputFiles({ name: 'job.json', mimeType: 'application/json', buffer: Buffer.from(edited) });
    await form.getByRole('button', { name: 'Import weights' }).click();
    await expect(form.getByRole('alert').textContent({ timeout: 60_000 })).resolves.toMatch(/was changed after export/);

    await form.getByLabel('Job (job.json)').setInputFiles(join(output, 'job.json'));
    await form.getByRole('button', { name: 'Import weights' }).click();
    await page.waitForURL(/#\/registry\/coin-year\/1$/, { timeout: 60_000 });
    const lineage = page.getByRole('region', { name: 'Lineage' });
    await expect(lineage.textContent()).resolves.toContain('trained by PyTorch DDP, 1 process on cpu');
    await expect(lineage.textContent()).resolves.toContain(JSON.parse(job).jobHash);
    await studio.screenshot('cluster-weights-imported');
    expect(studio.errors).toEqual([]);
  });
});
