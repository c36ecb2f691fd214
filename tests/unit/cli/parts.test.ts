import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../../src/lib/datasets/image-format';
import { bar, ProgressPrinter, type CliIo } from '../../../src/cli/progress';
import { sharpProcessor } from '../../../src/cli/images';
import { classify, EXIT, MissingFileError } from '../../../src/cli/errors';
import { corrupt, png } from '../datasets/factories';

function capture(tty: boolean) {
  const lines: string[] = [];
  const io: CliIo = { out: () => {}, err: (t) => void lines.push(t), tty };
  return { io, lines };
}

describe('ProgressPrinter', () => {
  it('draws a bar of the whole run from batch events', () => {
    expect(bar(0)).toBe(`[${'-'.repeat(24)}]   0%`);
    expect(bar(0.5, 4)).toBe('[##--]  50%');
    expect(bar(Number.NaN, 2)).toBe('[--]   0%');
    const { io, lines } = capture(true);
    const printer = new ProgressPrinter(io, 2);
    printer.onEvent({ kind: 'batch', epoch: 2, batch: 1, batches: 2, loss: 0.5 });
    expect(lines[0]).toBe(`\r${bar(0.75)} epoch 2/2 batch 1/2 loss 0.5000`);
    printer.onEvent({ kind: 'epoch', epoch: 2, epochs: 0, metrics: { val_accuracy: 0.75 } });
    expect(lines.slice(1)).toEqual(['\n', 'epoch 2/2 val_accuracy=0.7500\n']);
  });

  it('writes whole lines, throttled, when stderr is not a terminal (CI logs)', () => {
    const { io, lines } = capture(false);
    let now = 0;
    const printer = new ProgressPrinter(io, 1, { now: () => now, logEveryMs: 1000 });
    printer.onEvent({ kind: 'batch', epoch: 1, batch: 1, batches: 3 });
    now = 10;
    printer.onEvent({ kind: 'batch', epoch: 1, batch: 2, batches: 3 });
    printer.onEvent({ kind: 'batch', epoch: 1, batch: 3, batches: 3 });
    printer.onEvent({ kind: 'log', level: 'warn', message: 'slow disk' });
    printer.onEvent({ kind: 'fold', index: 0, k: 3 });
    expect(lines).toEqual([`${bar(1 / 3)} epoch 1/1 batch 1/3\n`, `${bar(1)} epoch 1/1 batch 3/3\n`, 'warn: slow disk\n', 'fold 1 of 3\n']);
  });
});

describe('sharpProcessor', () => {
  it('keeps images that fit byte for byte and resizes larger ones to maxSide', async () => {
    const small = png(8, 6, 3);
    const kept = await sharpProcessor.process(small, inspectImage(small), { maxSide: 16 });
    expect(kept).toMatchObject({ width: 8, height: 6, resized: false });
    expect(new Uint8Array(await kept.blob.arrayBuffer())).toEqual(small);

    const large = png(40, 20, 4);
    const resized = await sharpProcessor.process(large, inspectImage(large), { maxSide: 10 });
    expect(resized).toMatchObject({ width: 10, height: 5, resized: true, original: { width: 40, height: 20 } });
    const meta = await sharp(new Uint8Array(await resized.blob.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 10, 5]);
  });

  it('refuses images whose structure is valid but whose pixels do not decode', async () => {
    const bytes = png(16, 16, 5);
    // Flip a byte inside the compressed pixels and repair the chunk CRC, so only a decoder notices.
    const idat = Buffer.from(bytes).indexOf('IDAT');
    const broken = corrupt(bytes, idat + 8);
    const { crc32 } = await import('../../../src/lib/datasets/png');
    const length = new DataView(broken.buffer).getUint32(idat - 4);
    new DataView(broken.buffer).setUint32(idat + 4 + length, crc32(broken, idat, idat + 4 + length));
    await expect(sharpProcessor.process(broken, inspectImage(broken), { maxSide: 64 })).rejects.toMatchObject({ name: 'ImageDecodeError' });
  });
});

describe('classify', () => {
  it('maps the studio’s errors to the documented exit codes', () => {
    const named = (name: string) => Object.assign(new Error('m'), { name });
    expect(classify(new MissingFileError('x')).code).toBe(EXIT.missingFile);
    expect(classify(named('DatasetValidationError')).code).toBe(EXIT.badFormat);
    expect(classify(named('InvalidBundleError')).code).toBe(EXIT.badFormat);
    expect(classify(named('TrainJobError')).code).toBe(EXIT.failed);
    expect(classify(Object.assign(new Error('gone'), { code: 'ENOENT' })).code).toBe(EXIT.missingFile);
    expect(classify(new TypeError('bug'))).toMatchObject({ code: EXIT.internal, message: expect.stringContaining('TypeError: bug') });
  });
});
