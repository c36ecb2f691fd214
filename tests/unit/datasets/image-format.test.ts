import { describe, expect, it } from 'vitest';
import { checkJpeg, checkPng, ImageFormatError, inspectImage, sniffImage } from '../../../src/lib/datasets/image-format';
import { corrupt, jpeg, png } from './factories';

const reason = (bytes: Uint8Array) => {
  try {
    inspectImage(bytes);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ImageFormatError);
    return (error as Error).message;
  }
};

describe('image structure checks', () => {
  it('reads size and format of valid PNG and JPEG files', () => {
    expect(inspectImage(png(13, 7))).toEqual({ format: 'png', mime: 'image/png', width: 13, height: 7 });
    expect(inspectImage(jpeg(640, 480))).toEqual({ format: 'jpeg', mime: 'image/jpeg', width: 640, height: 480 });
  });

  it('rejects empty files and non-images by their first bytes', () => {
    expect(reason(new Uint8Array())).toMatch(/empty file/);
    expect(reason(new TextEncoder().encode('path,label\na.png,minor\n'))).toMatch(/not an image/);
    expect(sniffImage(new TextEncoder().encode('GIF89a'))).toBe('gif');
  });

  it('finds PNG damage: truncation, a bad CRC, a missing IEND, a zero size', () => {
    const good = png(10, 10);
    expect(reason(good.slice(0, good.length - 20))).toMatch(/corrupt PNG.*(truncated|past the end)/);
    expect(reason(corrupt(good, 45))).toMatch(/CRC mismatch in chunk IDAT/);
    expect(reason(corrupt(good, 38))).toMatch(/invalid type/);
    expect(reason(good.slice(0, good.length - 12))).toMatch(/no IEND/);
    const zero = good.slice();
    zero.set([0, 0, 0, 0], 16); // width 0 (the CRC then fails too: either reason is a corrupt PNG)
    expect(reason(zero)).toMatch(/corrupt PNG|size of 0/);
    expect(() => checkPng(jpeg())).toThrow(/signature/);
  });

  it('finds JPEG damage: no EOI, no SOF, segments past the end', () => {
    const good = jpeg(32, 16);
    expect(checkJpeg(good)).toMatchObject({ width: 32, height: 16 });
    expect(reason(good.slice(0, good.length - 2))).toMatch(/ends before the EOI/);
    expect(reason(good.slice(0, 30))).toMatch(/corrupt JPEG/);
    const noSof = Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 4, 0, 0, 1, 2, 0xff, 0xd9]);
    expect(reason(noSof)).toMatch(/before any SOF/);
  });

  it('reads the size of GIF, BMP and WebP headers', () => {
    const gif = Uint8Array.from([...new TextEncoder().encode('GIF89a'), 40, 0, 30, 0, 0, 0, 0]);
    expect(inspectImage(gif)).toMatchObject({ format: 'gif', width: 40, height: 30 });
    const bmp = new Uint8Array(54);
    bmp.set([0x42, 0x4d]);
    new DataView(bmp.buffer).setInt32(18, 12, true);
    new DataView(bmp.buffer).setInt32(22, -9, true);
    expect(inspectImage(bmp)).toMatchObject({ format: 'bmp', width: 12, height: 9 });
  });
});
