import { describe, expect, it } from 'vitest';
import { crc32, decodePng, encodePng } from '../../../src/lib/datasets/png';

describe('png codec', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it.each([1, 3, 4] as const)('round-trips %i-channel pixels exactly', (channels) => {
    const width = 17;
    const height = 5;
    const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + (i >> 3)) & 0xff);
    const decoded = decodePng(encodePng({ width, height, channels, data }));
    expect(decoded).toMatchObject({ width, height, channels });
    expect(Array.from(decoded.data)).toEqual(Array.from(data));
  });

  it('refuses data of the wrong length', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).toThrow(/needs 12/);
  });
});
