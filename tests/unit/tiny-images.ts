import sharp from 'sharp';
import type { LoupeDb } from '../../src/lib/db/db';
import type { SampleRow } from '../../src/lib/db/types';
import { mulberry32 } from '../../src/lib/random';

/** A 16×16 PNG whose brightness encodes `level` in [0, 1], with a little seeded texture. */
export async function tinyPng(level: number, seed: number): Promise<Blob> {
  const random = mulberry32(seed);
  const raw = Buffer.alloc(16 * 16 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = Math.round(40 + level * 170 + random() * 30);
  const bytes = await sharp(raw, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer();
  return new Blob([new Uint8Array(bytes)], { type: 'image/png' });
}

/** A coin-year dataset `coins` of `count` photo pairs whose brightness follows the year (every 4th in val). */
export async function seedTinyCoins(db: LoupeDb, count: number): Promise<string> {
  const samples: SampleRow[] = [];
  for (let i = 0; i < count; i++) {
    const year = 1850 + ((i * 37) % 170);
    const level = (year - 1850) / 170;
    samples.push({ id: `c${i}`, datasetId: 'coins', split: i % 4 === 0 ? 'val' : 'train', label: year, hash: `h${i}`, path: `coin ${i}`, blobs: [await tinyPng(level, i), await tinyPng(1 - level, i + 100)] });
  }
  await db.datasets.add({ id: 'coins', name: 'tiny coins', task: 'coin-year', createdAt: 1, sampleCount: samples.length });
  await db.samples.bulkAdd(samples);
  return 'coins';
}
