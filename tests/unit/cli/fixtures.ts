import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCars } from '../../../src/lib/datasets/demo/cars';
import { generateCoins } from '../../../src/lib/datasets/demo/coins';
import { DEMO_TWEETS } from '../../../src/lib/datasets/demo/tweets';
import { main } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/progress';
import { idxFile } from '../datasets/factories';

const made: string[] = [];

/** A fresh temporary folder (removed by `removeTempDirs`). */
export function tempDir(prefix = 'loupe-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;

/** The demo tweets as a `text,label` CSV (what a user exports from a spreadsheet). */
export function writeTweetsCsv(dir: string, name = 'tweets.csv'): string {
  const path = join(dir, name);
  writeFileSync(path, `text,label\n${DEMO_TWEETS.map((t) => `${quote(t.text)},${t.label}`).join('\n')}\n`);
  return path;
}

/** Demo car photos, one folder per class, small. */
export function writeCarsFolder(dir: string, count = 18, size = 32): string {
  const root = join(dir, 'cars');
  for (const car of generateCars({ count, width: size, height: Math.round(size * 0.75) })) {
    mkdirSync(join(root, car.label), { recursive: true });
    writeFileSync(join(root, car.label, `${car.id}.png`), car.image);
  }
  return root;
}

/** Demo coins: a `front,back,year` manifest beside the images, small. */
export function writeCoinsFolder(dir: string, count = 16, size = 32): string {
  const root = join(dir, 'coins');
  mkdirSync(join(root, 'images'), { recursive: true });
  const rows = generateCoins({ count, size }).map((coin) => {
    writeFileSync(join(root, 'images', `${coin.id}_front.png`), coin.front);
    writeFileSync(join(root, 'images', `${coin.id}_back.png`), coin.back);
    return `images/${coin.id}_front.png,images/${coin.id}_back.png,${coin.year}`;
  });
  writeFileSync(join(root, 'manifest.csv'), `front,back,year\n${rows.join('\n')}\n`);
  return root;
}

/**
 * A Fashion-MNIST-like upload: `{prefix}-images-idx3-ubyte` + `{prefix}-labels-idx1-ubyte` + `classes.txt`,
 * with `count` distinct grey size×size images whose brightness tells the class (class i of n: darkest to
 * brightest). A prefix that names a split (`train`, `t10k`) gives every image that split.
 */
export function writeIdxFolder(dir: string, classes: readonly string[], count = 30, size = 8, prefix = 'fashion'): string {
  const root = join(dir, 'fashion');
  mkdirSync(root, { recursive: true });
  const area = size * size;
  const pixels = Array.from({ length: count * area }, (_, i) => {
    const image = Math.floor(i / area);
    const noise = (((image + 1) * 7919 + (i % area) * 104_729) % 251) % 24;
    return Math.min(255, Math.round(20 + ((image % classes.length) * 200) / Math.max(1, classes.length - 1) + noise));
  });
  writeFileSync(join(root, `${prefix}-images-idx3-ubyte`), idxFile([count, size, size], pixels));
  writeFileSync(join(root, `${prefix}-labels-idx1-ubyte`), idxFile([count], Array.from({ length: count }, (_, i) => i % classes.length)));
  writeFileSync(join(root, 'classes.txt'), `${classes.join('\n')}\n`);
  return root;
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Runs `loupe …` in-process and captures what it prints. */
export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string; json: () => unknown }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), tty: false };
  const code = await main(argv, io);
  return { code, out, err, json: () => JSON.parse(out) };
}
