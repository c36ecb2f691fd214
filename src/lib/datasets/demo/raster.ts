import { rng } from '../random';

/** Helpers shared by the demo image generators: smooth value noise, colour mixing, clamping. */

export type Rgb = [number, number, number];

export const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Writes a colour given in 0…1 into an RGB byte buffer. */
export function put(data: Uint8Array, index: number, color: Rgb): void {
  data[index * 3] = Math.round(clamp01(color[0]) * 255);
  data[index * 3 + 1] = Math.round(clamp01(color[1]) * 255);
  data[index * 3 + 2] = Math.round(clamp01(color[2]) * 255);
}

/**
 * Smooth value noise on a `cells`×`cells` lattice over [0,1)², bilinearly interpolated with a smoothstep:
 * blotchy patina, paint variation and lighting unevenness without any randomness per pixel.
 */
export function valueNoise(seed: number, cells: number): (x: number, y: number) => number {
  const random = rng(seed, 'noise', cells);
  const n = cells + 1;
  const lattice = Float32Array.from({ length: n * n }, () => random());
  const smooth = (t: number) => t * t * (3 - 2 * t);
  return (x, y) => {
    const fx = clamp01(x) * cells;
    const fy = clamp01(y) * cells;
    const ix = Math.min(cells - 1, Math.floor(fx));
    const iy = Math.min(cells - 1, Math.floor(fy));
    const tx = smooth(fx - ix);
    const ty = smooth(fy - iy);
    const a = lattice[iy * n + ix]!;
    const b = lattice[iy * n + ix + 1]!;
    const c = lattice[(iy + 1) * n + ix]!;
    const d = lattice[(iy + 1) * n + ix + 1]!;
    return a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty;
  };
}

/** Distance from point p to the segment a–b. */
export function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = clamp01(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}
