import { describe, expect, it } from 'vitest';
import { halfToFloat, parseSafetensors, SafetensorsError } from '../../../models/weights/safetensors';
import { assemble, encodeSafetensors, f32Bytes, i64Bytes, u16Bytes } from './factories';

describe('parseSafetensors', () => {
  it('decodes F32 tensors, shapes and metadata in header order', () => {
    const file = parseSafetensors(
      encodeSafetensors(
        {
          'conv.weight': { dtype: 'F32', shape: [2, 3], bytes: f32Bytes([1, -2, 3.5, 0, 1e-8, -1e8]) },
          scalar: { dtype: 'F32', shape: [], bytes: f32Bytes([42]) },
          empty: { dtype: 'F32', shape: [0, 4], bytes: new Uint8Array() },
        },
        { format: 'pt' },
      ),
    );
    expect([...file.tensors.keys()]).toEqual(['conv.weight', 'scalar', 'empty']);
    expect(file.metadata).toEqual({ format: 'pt' });
    const conv = file.tensors.get('conv.weight')!;
    expect(conv.shape).toEqual([2, 3]);
    expect([...conv.data]).toEqual([1, -2, 3.5, 0, Math.fround(1e-8), -1e8]);
    expect([...file.tensors.get('scalar')!.data]).toEqual([42]);
    expect(file.tensors.get('empty')!.data).toHaveLength(0);
  });

  it('reads data that starts at an unaligned offset (header length not a multiple of 4)', () => {
    const header = JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }) + ' ';
    expect((new TextEncoder().encode(header).byteLength + 8) % 4).not.toBe(0);
    const file = parseSafetensors(assemble(header, [f32Bytes([0.25, -7])]));
    expect([...file.tensors.get('x')!.data]).toEqual([0.25, -7]);
  });

  it('accepts a Node Buffer view into a larger pooled ArrayBuffer', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [3], bytes: f32Bytes([1, 2, 3]) } });
    const pooled = new Uint8Array(bytes.byteLength + 64);
    pooled.set(bytes, 16);
    const view = Buffer.from(pooled.buffer, 16, bytes.byteLength);
    expect([...parseSafetensors(view).tensors.get('x')!.data]).toEqual([1, 2, 3]);
  });

  it('decodes F16 (normal, subnormal, ±inf, NaN) and BF16 to float32', () => {
    const file = parseSafetensors(
      encodeSafetensors({
        half: { dtype: 'F16', shape: [7], bytes: u16Bytes([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00]) },
        brain: { dtype: 'BF16', shape: [3], bytes: u16Bytes([0x3f80, 0xc0a0, 0x3eaa]) },
      }),
    );
    const half = [...file.tensors.get('half')!.data];
    expect(half.slice(0, 6)).toEqual([1, -2, 65504, 2 ** -24, Infinity, -Infinity]);
    expect(half[6]).toBeNaN();
    expect([...file.tensors.get('brain')!.data]).toEqual([1, -5, Math.fround(0.33203125)]);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 5);
  });

  it('decodes integers to int32 (BN step counters are I64)', () => {
    const file = parseSafetensors(
      encodeSafetensors({
        steps: { dtype: 'I64', shape: [], bytes: i64Bytes([123456n]) },
        bytes: { dtype: 'U8', shape: [3], bytes: new Uint8Array([0, 128, 255]) },
        signed: { dtype: 'I8', shape: [2], bytes: new Uint8Array([0xff, 0x7f]) },
      }),
    );
    expect(file.tensors.get('steps')!.data).toBeInstanceOf(Int32Array);
    expect([...file.tensors.get('steps')!.data]).toEqual([123456]);
    expect([...file.tensors.get('bytes')!.data]).toEqual([0, 128, 255]);
    expect([...file.tensors.get('signed')!.data]).toEqual([-1, 127]);
  });

  it('rejects an I64 value beyond int32 instead of wrapping it', () => {
    const bytes = encodeSafetensors({ big: { dtype: 'I64', shape: [1], bytes: i64Bytes([2n ** 40n]) } });
    expect(() => parseSafetensors(bytes)).toThrow(/does not fit in int32/);
  });

  describe('broken files', () => {
    it('fewer than 8 bytes', () => {
      expect(() => parseSafetensors(new Uint8Array(5))).toThrow(SafetensorsError);
      expect(() => parseSafetensors(new Uint8Array(5))).toThrow(/fewer than the 8-byte header length/);
    });

    it('header length larger than the file', () => {
      const bytes = assemble('{}', [], 1000n);
      expect(() => parseSafetensors(bytes)).toThrow(/header length 1000 exceeds the 2 bytes/);
    });

    it('header length of 2^64 − 1 (would overflow a JS number)', () => {
      expect(() => parseSafetensors(assemble('{}', [], 2n ** 64n - 1n))).toThrow(/header length 18446744073709551615 exceeds/);
    });

    it('header that is not JSON, or not an object', () => {
      expect(() => parseSafetensors(assemble('{"a": '))).toThrow(/header is not valid UTF-8 JSON/);
      expect(() => parseSafetensors(assemble('[1, 2]'))).toThrow(/header must be a JSON object/);
    });

    it('unknown dtype, naming the tensor and the supported dtypes', () => {
      const bytes = assemble(JSON.stringify({ 'fc.weight': { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }), [new Uint8Array(2)]);
      expect(() => parseSafetensors(bytes)).toThrow(/tensor 'fc.weight': unknown dtype "F8_E4M3"; supported: F64, F32, F16, BF16/);
    });

    it('truncated data', () => {
      const whole = encodeSafetensors({ 'layer1.0.conv1.weight': { dtype: 'F32', shape: [4], bytes: f32Bytes([1, 2, 3, 4]) } });
      const truncated = whole.subarray(0, whole.byteLength - 3);
      expect(() => parseSafetensors(truncated)).toThrow(/tensor 'layer1.0.conv1.weight': data_offsets end at byte 16 but the file has only 13 data bytes \(truncated\)/);
    });

    it('offsets that do not match dtype × shape', () => {
      const bytes = assemble(JSON.stringify({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }), [new Uint8Array(12)]);
      expect(() => parseSafetensors(bytes)).toThrow(/tensor 'w': F32 \[2, 2\] needs 16 bytes, but data_offsets \[0, 12\] span 12/);
    });

    it('malformed shape or offsets', () => {
      const shape = assemble(JSON.stringify({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }));
      expect(() => parseSafetensors(shape)).toThrow(/tensor 'w': shape must be a list of non-negative integers/);
      const offsets = assemble(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }), [new Uint8Array(4)]);
      expect(() => parseSafetensors(offsets)).toThrow(/tensor 'w': data_offsets must be \[begin, end\]/);
    });
  });
});
