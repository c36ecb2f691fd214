import { describe, expect, it } from 'vitest';
import { DEFAULT_CARS, generateCar, generateCars } from '../../../src/lib/datasets/demo/cars';
import { DEFAULT_COINS, eraOf, generateCoin, generateCoins } from '../../../src/lib/datasets/demo/coins';
import { installDemoData } from '../../../src/lib/datasets/demo/install';
import { DEMO_TWEETS } from '../../../src/lib/datasets/demo/tweets';
import { checkPng } from '../../../src/lib/datasets/image-format';
import { structuralProcessor } from '../../../src/lib/datasets/image-processor';
import { decodePng } from '../../../src/lib/datasets/png';
import { makeDb } from '../factories';

const meanBrightness = (png: Uint8Array) => {
  const { data } = decodePng(png);
  let sum = 0;
  for (const v of data) sum += v;
  return sum / data.length;
};

/** Mean brightness of the coin's central disc (away from background and rim). */
const coinBrightness = (png: Uint8Array) => {
  const { data, width } = decodePng(png);
  let sum = 0;
  let n = 0;
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < width; x++) {
      if ((x - width / 2) ** 2 + (y - width / 2) ** 2 > (width * 0.3) ** 2) continue;
      sum += data[(y * width + x) * 3]! + data[(y * width + x) * 3 + 1]! + data[(y * width + x) * 3 + 2]!;
      n += 3;
    }
  }
  return sum / n;
};

describe('demo coins', () => {
  it('are deterministic in the seed and valid PNGs of the configured size', () => {
    const a = generateCoins({ count: 3, size: 96 });
    const b = generateCoins({ count: 3, size: 96 });
    expect(b).toEqual(a);
    expect(generateCoins({ count: 3, size: 96, seed: 8 }).map((c) => c.front)).not.toEqual(a.map((c) => c.front));
    for (const coin of a) {
      expect(checkPng(coin.front)).toMatchObject({ width: 96, height: 96 });
      expect(checkPng(coin.back)).toMatchObject({ width: 96, height: 96 });
      expect(coin.front).not.toEqual(coin.back);
      expect(coin.year).toBeGreaterThanOrEqual(1850);
      expect(coin.year).toBeLessThanOrEqual(2020);
    }
  });

  it('look older the older they are (darker metal on average), so the year is learnable', () => {
    const options = { ...DEFAULT_COINS, size: 64 };
    const old = Array.from({ length: 8 }, (_, i) => coinBrightness(generateCoin(i, options, 1850 + i * 3).front));
    const recent = Array.from({ length: 8 }, (_, i) => coinBrightness(generateCoin(100 + i, options, 1995 + i * 3).front));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(recent) - mean(old)).toBeGreaterThan(25);
    expect([eraOf(1850), eraOf(1900), eraOf(1950), eraOf(2000)]).toEqual(['classic', 'art', 'mid', 'modern']);
    // The same coin struck in another year differs (the year digits at least).
    expect(generateCoin(0, options, 1901).front).not.toEqual(generateCoin(0, options, 1902).front);
  });
});

describe('demo cars', () => {
  it('are deterministic, balanced across severities and valid PNGs', () => {
    const cars = generateCars({ count: 6 });
    expect(generateCars({ count: 6 })).toEqual(cars);
    expect(cars.map((c) => c.label)).toEqual(['minor', 'moderate', 'major', 'minor', 'moderate', 'major']);
    for (const car of cars) expect(checkPng(car.image)).toMatchObject({ width: DEFAULT_CARS.width, height: DEFAULT_CARS.height });
    expect(generateCar(0, { ...DEFAULT_CARS, seed: 99 }).image).not.toEqual(cars[0]!.image);
    expect(meanBrightness(cars[0]!.image)).toBeGreaterThan(20);
  });
});

describe('demo tweets', () => {
  it('are 150 distinct texts, 50 per class', () => {
    expect(DEMO_TWEETS).toHaveLength(150);
    expect(new Set(DEMO_TWEETS.map((t) => t.text)).size).toBe(150);
    for (const label of ['negative', 'neutral', 'positive']) expect(DEMO_TWEETS.filter((t) => t.label === label)).toHaveLength(50);
  });
});

describe('installDemoData', () => {
  it('stores the three synthetic datasets once (idempotent), with the same ids everywhere', async () => {
    const options = { coins: { count: 12, size: 48 }, cars: { count: 9 }, processor: structuralProcessor };
    const db = makeDb();
    const first = await installDemoData(db, options);
    expect(first.installed.map((d) => [d.demo, d.task, d.preset, d.sampleCount, d.synthetic])).toEqual([
      ['coins', 'coin-year', undefined, 12, true],
      ['cars', 'image-classification', 'car-damage', 9, true],
      ['tweets', 'text-classification', 'sentiment', 150, true],
    ]);
    const again = await installDemoData(db, options);
    expect(again.installed).toEqual([]);
    expect(again.existing.map((d) => d.id)).toEqual(first.installed.map((d) => d.id));
    expect(await db.datasets.count()).toBe(3);
    expect(await db.samples.count()).toBe(12 + 9 + 150);
    const coin = await db.samples.where('datasetId').equals(first.installed[0]!.id).first();
    expect(coin?.blobs).toHaveLength(2);
    expect(typeof coin?.label).toBe('number');

    const elsewhere = await installDemoData(makeDb(), { ...options, only: ['tweets'] });
    expect(elsewhere.installed[0]!.id).toBe(first.installed[2]!.id);
  });
});
