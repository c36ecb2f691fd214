import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, readTable, type Studio } from './harness';

interface RunSummary {
  id: string;
  status: string;
  trigger: string;
  runner?: string;
  gate?: string;
  modelVersion?: number;
  gateReason?: string;
  error?: string;
  /** The step a running run is in. */
  at?: string;
}

/** Pipeline runs (oldest first), versions and the production alias of a model, as stored. */
async function pipelineState(page: Page, model: string) {
  type Run = {
    id: string;
    model: string;
    status: string;
    queuedAt: number;
    trigger: { kind: string };
    runner?: string;
    error?: string;
    artifacts: { gate?: string; modelVersion?: number; gateReason?: string };
    steps: { name: string; status: string }[];
  };
  const runs = (await readTable<Run>(page, 'pipelineRuns')).filter((r) => r.model === model).sort((a, b) => a.queuedAt - b.queuedAt);
  const versions = (await readTable<{ name: string; version: number; status: string }>(page, 'modelVersions')).filter((v) => v.name === model);
  const production = (await readTable<{ name: string; alias: string; version: number }>(page, 'aliases')).find((a) => a.name === model && a.alias === 'production')?.version;
  return {
    runs: runs.map((r) => ({ id: r.id, status: r.status, trigger: r.trigger.kind, runner: r.runner, gate: r.artifacts.gate, modelVersion: r.artifacts.modelVersion, gateReason: r.artifacts.gateReason, error: r.error, at: r.steps.find((step) => step.status === 'running')?.name })) as RunSummary[],
    statuses: Object.fromEntries(versions.map((v) => [v.version, v.status])) as Record<number, string>,
    production,
  };
}

/** Console errors of the pages, for failure messages. */
const errorsSeen: string[] = [];

/** Waits until the model has `count` finished (completed or failed) runs; fails fast on a failed one. */
async function waitForFinishedRuns(page: Page, model: string, count: number, timeout: number): Promise<RunSummary[]> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const { runs } = await pipelineState(page, model);
    const failed = runs.find((r) => r.status === 'failed');
    if (failed) throw new Error(`pipeline run ${failed.id} failed: ${failed.error}; page errors: ${JSON.stringify(errorsSeen)}`);
    const finished = runs.filter((r) => r.status === 'completed');
    if (finished.length >= count) return finished;
    if (Date.now() > deadline) throw new Error(`only ${finished.length} of ${count} runs finished in time: ${JSON.stringify(runs)}`);
    await page.waitForTimeout(1000);
  }
}

/** Fills the New pipeline form. */
async function createPipeline(page: Page, options: { task: string; model: string; name: string; every: number; modelJson?: string; epochs: number; learningRate: string; overlap: 'queue' | 'skip' }) {
  await page.getByRole('button', { name: 'New pipeline' }).click();
  const form = page.getByRole('form', { name: 'New pipeline' });
  await form.getByLabel('Task').selectOption(options.task);
  await form.getByLabel('Model name (registry)').fill(options.model);
  await form.getByLabel('Pipeline name').fill(options.name);
  await form.getByRole('combobox', { name: /^Schedule/ }).selectOption('interval');
  await form.getByRole('spinbutton', { name: 'Every' }).fill(String(options.every));
  await form.getByRole('combobox', { name: /^Unit/ }).selectOption('seconds');
  await expect(form.getByTestId('schedule-preview').textContent()).resolves.toMatch(/^Next run after saving:/);
  await form.getByLabel(/new labelled samples/).fill('0');
  await form.getByLabel('When a run is in progress').selectOption(options.overlap);
  await form.getByLabel('Epochs').fill(String(options.epochs));
  await form.getByLabel('Learning rate').fill(options.learningRate);
  await form.getByLabel(/Early-stopping patience/).fill('0');
  if (options.modelJson) await form.getByLabel('Model (JSON)').fill(options.modelJson);
  await form.getByRole('button', { name: 'Create pipeline' }).click();
  await page.waitForURL(/#\/pipelines\/pl-/);
  await page.getByRole('heading', { name: new RegExp(options.name) }).waitFor();
}

describe('pipelines', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await openStudio();
    studio.browser.context.on('weberror', (error) => errorsSeen.push(`${error.error().message} ${error.error().stack ?? ''}`));
    studio.browser.context.on('console', (message) => message.type() === 'error' && errorsSeen.push(message.text()));
    await studio.goto('datasets');
    await studio.page.getByRole('button', { name: 'Load demo data' }).first().click();
    for (const name of ['Demo coins (synthetic)', 'Demo tweets (hand-written)']) await studio.page.getByRole('link', { name }).waitFor({ timeout: 170_000 });
    // WebAssembly with Loupe's training kernels: the fastest backend on this CPU-only machine (WebGPU runs
    // on SwiftShader here).
    await studio.goto('settings');
    await studio.page.getByLabel('Backend for training and inference').selectOption('wasm');
  }, 200_000);
  afterAll(async () => studio?.close());

  it('a schedule of a few seconds on the demo coins registers a version and promotes it; one that does not beat production is rejected', async () => {
    const { page } = studio;
    await studio.goto('pipelines');
    await expect.poll(() => page.getByRole('heading', { name: 'No pipelines yet' }).isVisible()).toBe(true);
    await studio.screenshot('pipelines-empty');
    await createPipeline(page, {
      task: 'coin-year',
      model: 'coin-year',
      name: 'Coins every 5 s',
      every: 5,
      modelJson: '{"architecture":"coin-regressor","backbone":"mobilenetv3-small","mode":"shared","inputSize":32,"projection":null,"dropout":0,"loss":"huber"}',
      epochs: 1,
      // A small step: the model stays near the mean year (MAE ~42, under the gate's 50) run after run, so the
      // first version is promoted and the same recipe's next one is surely not 0.5 years better. At 0.003 one
      // epoch lands either side of 50 from run to run.
      learningRate: '0.0003',
      overlap: 'skip',
    });
    await expect(page.getByTestId('next-run').textContent()).resolves.toMatch(/in [1-5] s/);

    // The schedule fires within 5 s; the run takes the new data (none), trains, evaluates, registers and gates.
    // A trigger while it runs — "Run now" here, as a schedule tick would be when a run outlasts the 5 s — is
    // skipped, saying why (a click, because the run may finish within the 5 s on a fast machine).
    for (let i = 0; i < 600 && !(await pipelineState(page, 'coin-year')).runs.some((r) => r.status === 'running'); i++) await page.waitForTimeout(100);
    await page.getByRole('button', { name: 'Run now' }).click();
    const [first] = await waitForFinishedRuns(page, 'coin-year', 1, 300_000);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('pipeline-state').filter({ hasText: 'paused' }).waitFor();
    expect(first).toMatchObject({ trigger: 'schedule', status: 'completed', gate: 'promoted', modelVersion: 1 });
    expect(first!.gateReason).toMatch(/^Promoted: no production version yet, and mae clears the absolute threshold/);
    await page.locator(`tr[data-run-id="${first!.id}"]`).getByRole('button', { name: 'Steps' }).click();
    const timeline = page.getByRole('list', { name: `Steps of run ${first!.id}` });
    await expect.poll(() => timeline.locator('li[data-step-status="completed"]').count()).toBe(8);
    await expect(timeline.locator('li[data-step="deploy"] pre').textContent()).resolves.toMatch(/coin-year v1 loaded in the inference worker/);
    await studio.screenshot('pipelines-run-promoted');

    // The overlapping triggers were recorded as skipped, saying why.
    let state = await pipelineState(page, 'coin-year');
    const skipped = state.runs.filter((r) => r.status === 'skipped');
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped[0]!.error).toMatch(/^Skipped: run pr-.* of this pipeline is in progress/);
    // A scheduled run may have begun before the pause landed: let it finish before changing the recipe.
    for (let i = 0; i < 300 && state.runs.some((r) => r.status === 'running' || r.status === 'queued'); i++) {
      await page.waitForTimeout(1000);
      state = await pipelineState(page, 'coin-year');
    }
    const production = state.production!;
    expect(production).toBeGreaterThanOrEqual(1);
    const versionsBefore = Object.keys(state.statuses).length;

    // The same recipe on the same data cannot beat production by the gate's minimum change (0.5 years of MAE):
    // the new version is registered, rejected, and production stays. (An untrained recipe is no sure loser on
    // coins: predicting about the mean year scores as well as one epoch at 32 px, so the sure-worse recipe is
    // tested on the tweets below.)
    await page.getByRole('button', { name: 'Run now' }).click();
    const finished = await waitForFinishedRuns(page, 'coin-year', state.runs.filter((r) => r.status === 'completed').length + 1, 300_000);
    const last = finished.at(-1)!;
    expect(last).toMatchObject({ trigger: 'manual', gate: 'rejected', modelVersion: versionsBefore + 1 });
    expect(last.gateReason).toMatch(new RegExp(`not better than production v${production}'s|than the minimum absolute change 0\\.5`));
    state = await pipelineState(page, 'coin-year');
    expect(state.production).toBe(production);
    expect(state.statuses[versionsBefore + 1]).toBe('rejected');
    const row = page.locator(`tr[data-run-id="${last.id}"]`);
    await expect(row.getAttribute('data-gate')).resolves.toBe('rejected');
    await row.getByRole('button', { name: 'Steps' }).click();
    await expect(page.locator('li[data-step="deploy"]').getAttribute('data-step-status')).resolves.toBe('skipped');
    await expect(page.locator('li[data-step="deploy"] pre').textContent()).resolves.toContain(`production stays v${production}`);
    await studio.screenshot('pipelines-run-rejected');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await studio.screenshot('pipelines-run-rejected-dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    expect(studio.errors).toEqual([]);
  }, 900_000);

  it('with two tabs open, exactly one runs the schedule; when it closes, the other takes over', async () => {
    const { page } = studio;
    const second = await studio.browser.context.newPage();
    try {
      await studio.goto('pipelines');
      await second.goto(`${studio.baseUrl}#/pipelines`);
      await second.locator('main h1').waitFor();
      const leaders = async () =>
        Promise.all([page, second].map((p) => p.getByTestId('scheduler-status').getAttribute('data-leader')));
      // The first tab was open first, so it holds the scheduler lock.
      await expect.poll(leaders, { timeout: 10_000 }).toEqual(['true', 'false']);
      const tabIds = await Promise.all([page, second].map((p) => p.evaluate(() => document.documentElement.dataset.loupeTab)));

      // The demo tweets train in about a second: a fastText pipeline every 5 s.
      await createPipeline(second, { task: 'text-classification', model: 'tweets', name: 'Tweets every 5 s', every: 5, epochs: 10, learningRate: '0.05', overlap: 'skip' });
      await waitForFinishedRuns(page, 'tweets', 2, 120_000);
      let runs = (await pipelineState(page, 'tweets')).runs.filter((r) => r.status !== 'skipped');
      expect(new Set(runs.map((r) => r.runner))).toEqual(new Set([tabIds[0]]));
      expect(runs.every((r) => r.trigger === 'schedule')).toBe(true);
      await studio.screenshot('pipelines-two-tabs');

      // The leader closes: the other tab is elected and runs the next scheduled time.
      const before = runs.length;
      await page.goto('about:blank');
      await expect.poll(async () => second.getByTestId('scheduler-status').getAttribute('data-leader'), { timeout: 10_000 }).toBe('true');
      const deadline = Date.now() + 120_000;
      for (;;) {
        const all = (await pipelineState(second, 'tweets')).runs;
        const failed = all.find((r) => r.status === 'failed');
        if (failed) throw new Error(`pipeline run ${failed.id} failed: ${failed.error}`);
        runs = all.filter((r) => r.status === 'completed');
        if (runs.length > before && runs.at(-1)!.runner === tabIds[1]) break;
        if (Date.now() > deadline) throw new Error(`the second tab never ran the schedule: ${JSON.stringify(all)}`);
        await second.waitForTimeout(1000);
      }
      await second.getByRole('button', { name: 'Pause' }).click();
      await second.getByTestId('pipeline-state').filter({ hasText: 'paused' }).waitFor();

      // A recipe that must be worse (learning rate 1e-9: the model stays as initialised, about 1/3 accuracy)
      // is registered and rejected; production stays.
      for (let i = 0; i < 120 && (await pipelineState(second, 'tweets')).runs.some((r) => r.status === 'running' || r.status === 'queued'); i++) await second.waitForTimeout(1000);
      const before2 = await pipelineState(second, 'tweets');
      await second.getByRole('button', { name: 'Edit' }).click();
      const form = second.getByRole('form', { name: 'Edit Tweets every 5 s' });
      await form.getByLabel('Learning rate').fill('0.000000001');
      await form.getByRole('button', { name: 'Save changes' }).click();
      await second.getByRole('button', { name: 'Run now' }).click();
      const done = await waitForFinishedRuns(second, 'tweets', before2.runs.filter((r) => r.status === 'completed').length + 1, 120_000);
      const worse = done.at(-1)!;
      expect(worse).toMatchObject({ trigger: 'manual', gate: 'rejected', runner: tabIds[1] });
      expect(worse.gateReason).toMatch(new RegExp(`accuracy .* is not better than production v${before2.production}'s`));
      const after = await pipelineState(second, 'tweets');
      expect(after.production).toBe(before2.production);
      expect(after.statuses[worse.modelVersion!]).toBe('rejected');
    } finally {
      await second.close();
    }
  }, 300_000);
});
