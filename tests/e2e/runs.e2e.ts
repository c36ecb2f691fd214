import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, seedRows, type Studio } from './harness';

describe('runs page', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    await studio.goto('runs'); // opens (and creates) the database
    const run = (id: string, name: string, lr: number, mae: number) => ({
      id,
      name,
      task: 'coin-year',
      status: 'completed',
      createdAt: Date.now(),
      startedAt: Date.now() - 60_000,
      endedAt: Date.now(),
      params: { epochs: 3, learningRate: lr },
      seed: 1,
      backend: 'wasm',
      datasetVersion: 'abcdef123456',
      appVersion: '0.1.0',
      metrics: { val_mae: mae },
    });
    const points = (runId: string, start: number) =>
      [1, 2, 3].map((step) => ({ runId, step, epoch: step, name: 'val_loss', value: start / step, ts: Date.now() }));
    await seedRows(studio, {
      runs: [run('r1', 'lr 1e-3', 0.001, 14.2), run('r2', 'lr 1e-2', 0.01, 11.8)],
      metricPoints: [...points('r1', 2), ...points('r2', 3)],
    });
  });
  afterAll(async () => studio?.close());

  it('compares two runs: parameters side by side with differences marked, and overlaid curves', async () => {
    await studio.page.getByLabel('Compare lr 1e-3').check();
    await studio.page.getByLabel('Compare lr 1e-2').check();
    const comparison = studio.page.getByRole('region', { name: 'Run comparison' });
    await comparison.waitFor();
    const lrRow = comparison.locator('tr', { has: studio.page.locator('th', { hasText: 'learningRate' }) });
    await expect(lrRow.getAttribute('class')).resolves.toContain('diff');
    await expect.poll(() => lrRow.locator('td').allTextContents()).toEqual(['0.001', '0.01']);
    const epochsRow = comparison.locator('tr', { has: studio.page.locator('th', { hasText: 'epochs' }) });
    await expect(epochsRow.getAttribute('class')).resolves.not.toContain('diff');
    const chart = comparison.getByRole('img', { name: 'val_loss: lr 1e-3, lr 1e-2' });
    await chart.locator('canvas').waitFor();
    await studio.screenshot('runs-compare');
    expect(studio.errors).toEqual([]);
  });
});
