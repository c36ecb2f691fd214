import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/errors';
import { removeTempDirs, tempDir, writeTweetsCsv } from './fixtures';

const BIN = fileURLToPath(new URL('../../../bin/loupe.mjs', import.meta.url));

/** Runs the real `loupe` bin in its own process, started from `cwd` (not the repo). */
function loupe(cwd: string, ...args: string[]) {
  // Sentiment data trains the lexicon-aware model (the preset's default), which loads its valence table first:
  // on two cores shared with other work one training took ~55 s, so the limit is a hang guard, not a speed bar.
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 150_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('the loupe bin', () => {
  afterAll(removeTempDirs);

  it('runs from any folder: trains, predicts with clean JSON on stdout, and exits with the documented codes', () => {
    const dir = tempDir();
    writeTweetsCsv(dir);
    const trained = loupe(dir, 'train', '--task', 'sentiment', '--data', 'tweets.csv', '--epochs', '1', '--out', 'out/model.zip');
    expect(trained.code, trained.err).toBe(EXIT.ok);
    expect(JSON.parse(trained.out)).toMatchObject({ bundle: 'out/model.zip', task: 'text-classification', metricsFile: join('out', 'metrics.json') });

    const predicted = loupe(dir, 'predict', '--model', 'out/model.zip', '--text', 'what a wonderful day');
    expect(predicted.code, predicted.err).toBe(EXIT.ok);
    expect(JSON.parse(predicted.out).predictions).toHaveLength(1);

    const missing = loupe(dir, 'predict', '--model', 'missing.zip', '--text', 'x');
    expect(missing.code).toBe(EXIT.missingFile);
    expect(missing.out).toBe('');
    expect(missing.err).toBe('loupe predict: error: --model missing.zip: no such file or folder\n');
  }, 300_000);
});
