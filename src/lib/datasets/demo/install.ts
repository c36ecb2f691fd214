import type { LoupeDb } from '$lib/db/db';
import type { DatasetRow, TaskName } from '$lib/db/types';
import { withLock } from '$lib/locks';
import type { ProgressCallback } from '$lib/progress';
import { throwIfCancelled } from '../errors';
import type { ImageProcessor } from '../image-processor';
import { importCandidates } from '../ingest';
import type { Candidate, ParseResult } from '../types';
import { DEFAULT_CARS, generateCar, type CarOptions } from './cars';
import { DEFAULT_COINS, generateCoin, type CoinOptions } from './coins';
import { DEMO_TWEETS } from './tweets';

export type DemoKey = 'coins' | 'cars' | 'tweets';

export const DEMOS: Record<DemoKey, { task: TaskName; preset?: string; name: string; description: string }> = {
  coins: {
    task: 'coin-year',
    name: 'Demo coins (synthetic)',
    description: 'Generated coins 1850–2020: the year is struck on the obverse; era sets the design and metal; age darkens and wears them.',
  },
  cars: {
    task: 'image-classification',
    preset: 'car-damage',
    name: 'Demo car damage (synthetic)',
    description: 'Generated side views of cars with minor, moderate or major damage (scratches, dents, crumpled corners, broken glass).',
  },
  tweets: {
    task: 'text-classification',
    preset: 'sentiment',
    name: 'Demo tweets (hand-written)',
    description: '150 short hand-written tweets, 50 negative, 50 neutral, 50 positive.',
  },
};

export interface DemoOptions {
  coins?: Partial<CoinOptions>;
  cars?: Partial<CarOptions>;
  /** Seed of the split assignment (default 42). */
  seed?: number;
  only?: DemoKey[];
  processor?: ImageProcessor;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

function blob(bytes: Uint8Array): Blob {
  return new Blob([bytes as BlobPart], { type: 'image/png' });
}

/**
 * What "Load demo data" imports for one demo, before the import checks and splits it (scripts/eval-real
 * re-imports parts of the demo coins from here).
 * @example demoCandidates('coins', {}).length // 300
 */
export function demoCandidates(key: DemoKey, options: DemoOptions): Candidate[] {
  const report = (done: number, total: number) => {
    if (done % 25 === 0 || done === total) options.onProgress?.({ kind: 'progress', label: `Generating ${DEMOS[key].name}`, done, total });
  };
  switch (key) {
    case 'coins': {
      const o = { ...DEFAULT_COINS, ...options.coins };
      return Array.from({ length: o.count }, (_, i) => {
        throwIfCancelled(options.signal);
        const coin = generateCoin(i, o);
        report(i + 1, o.count);
        return {
          kind: 'image' as const,
          item: `${coin.id} (${coin.year})`,
          label: coin.year,
          files: [
            { path: `coins/${coin.id}_front.png`, file: blob(coin.front) },
            { path: `coins/${coin.id}_back.png`, file: blob(coin.back) },
          ],
          source: 'demo',
        };
      });
    }
    case 'cars': {
      const o = { ...DEFAULT_CARS, ...options.cars };
      return Array.from({ length: o.count }, (_, i) => {
        throwIfCancelled(options.signal);
        const car = generateCar(i, o);
        report(i + 1, o.count);
        return { kind: 'image' as const, item: car.id, label: car.label, files: [{ path: `cars/${car.label}/${car.id}.png`, file: blob(car.image) }], source: 'demo' };
      });
    }
    case 'tweets':
      return DEMO_TWEETS.map((t, i) => ({ kind: 'text' as const, item: `tweet ${i + 1}`, path: `tweet ${i + 1}`, text: t.text, label: t.label, source: 'demo' }));
  }
}

/**
 * Stores the built-in demo datasets (synthetic coins, synthetic car damage, hand-written tweets) unless
 * they are there already — idempotent, also across tabs (a Web Lock serialises concurrent calls).
 * Generation is deterministic in the seed, so installs give the same versions with the same ids (on one JS engine:
 * engines may differ in the last bit of `Math.sin`/`Math.exp`, which can change a pixel and so the id).
 * @example const { installed } = await installDemoData(getDb());
 */
export async function installDemoData(db: LoupeDb, options: DemoOptions = {}): Promise<{ installed: DatasetRow[]; existing: DatasetRow[] }> {
  return withLock('loupe-demo-data', async () => {
    const installed: DatasetRow[] = [];
    const existing: DatasetRow[] = [];
    for (const key of options.only ?? (Object.keys(DEMOS) as DemoKey[])) {
      const present = await db.datasets.filter((d) => d.demo === key).first();
      if (present) {
        existing.push(present);
        continue;
      }
      const demo = DEMOS[key];
      const parsed: ParseResult = { task: demo.task, candidates: demoCandidates(key, options), skipped: [] };
      const outcome = await importCandidates(
        db,
        parsed,
        { task: demo.task, preset: demo.preset, name: demo.name, description: demo.description, synthetic: true, demo: key, seed: options.seed ?? 42 },
        { processor: options.processor, onProgress: options.onProgress, signal: options.signal },
      );
      (outcome.existed ? existing : installed).push(outcome.dataset);
    }
    return { installed, existing };
  });
}
