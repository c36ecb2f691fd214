import { describe, expect, it } from 'vitest';
import { probeWebGpu } from '../../../src/lib/capabilities';
import { sha256Hex } from '../../../src/lib/hash';
import { getSetting, setSetting } from '../../../src/lib/settings';
import { formatBytes } from '../../../src/lib/bytes';
import { storageStatus } from '../../../src/lib/storage';
import { formatDuration, formatNumber } from '../../../src/lib/ui/format';
import { DEFAULT_ROUTE, ROUTES, parseHash } from '../../../src/lib/ui/routes';
import { makeDb } from '../factories';

describe('routes', () => {
  it('parses hash routes with extra path segments', () => {
    expect(parseHash('#/runs/abc%20d')).toEqual({ route: 'runs', rest: ['abc d'], known: true });
    expect(parseHash('')).toEqual({ route: DEFAULT_ROUTE, rest: [], known: true });
  });
  it('falls back to the default for unknown routes and says so', () => {
    expect(parseHash('#/nope')).toEqual({ route: DEFAULT_ROUTE, rest: [], known: false });
  });
  it('covers the nine studio areas', () => {
    expect(ROUTES.map((r) => r.title)).toEqual(['Datasets', 'Train', 'Runs', 'Sweeps', 'Registry', 'Predict', 'Monitor', 'Pipelines', 'Settings']);
  });
});

describe('storage', () => {
  it('formats bytes in binary units, labelled KiB, MiB, GiB', () => {
    expect([0, 999, 1536, 10 * 2 ** 20, 2_500_000, 12_345_678_901].map(formatBytes)).toEqual(['0 B', '999 B', '1.5 KiB', '10 MiB', '2.38 MiB', '11.5 GiB']);
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
  });
  it('reads usage, quota and persistence, or nothing where unsupported', async () => {
    const manager = { estimate: async () => ({ usage: 10, quota: 100 }), persisted: async () => true } as StorageManager;
    await expect(storageStatus(manager)).resolves.toEqual({ usage: 10, quota: 100, persisted: true });
    await expect(storageStatus(undefined)).resolves.toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('uses the largest sensible unit', () => {
    expect([950, 12_000, 83_000, 7_380_000].map(formatDuration)).toEqual(['950 ms', '12 s', '1 min 23 s', '2 h 3 min']);
  });
});

describe('formatNumber', () => {
  it('keeps four significant digits without trailing zeros', () => {
    expect([0.001, 12.3456, 1850, 0.000123456, Number.NaN].map(formatNumber)).toEqual(['0.001', '12.35', '1850', '0.0001235', 'NaN']);
  });
});

describe('capabilities', () => {
  it('reports missing WebGPU with the fallback', async () => {
    await expect(probeWebGpu(undefined)).resolves.toMatchObject({ ok: false, note: expect.stringMatching(/WebGL, WebAssembly or the CPU/) });
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(probeWebGpu(noAdapter)).resolves.toMatchObject({ ok: false, note: expect.stringMatching(/no usable GPU adapter/) });
  });
});

describe('settings', () => {
  it('returns defaults until set', async () => {
    const db = makeDb();
    await expect(getSetting(db, 'backend')).resolves.toBe('auto');
    await setSetting(db, 'backend', 'wasm');
    await expect(getSetting(db, 'backend')).resolves.toBe('wasm');
    db.close();
  });
});

describe('sha256Hex', () => {
  it('matches the known digest of "abc"', async () => {
    await expect(sha256Hex('abc')).resolves.toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
