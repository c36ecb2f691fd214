import { encodePng } from '../png';
import { pick, randInt, rng, uniform } from '../random';
import { DAMAGE_LABELS, type DamageLabel } from '../types';
import { clamp01, segmentDistance, valueNoise, type Rgb } from './raster';

/**
 * Synthetic car photos of three damage severities. A side view of a car (body, cabin, windows, wheels,
 * lights) in a random colour, position, size, direction and lighting, with damage whose amount grows
 * with severity: minor — a few short scratches, maybe a small dent; moderate — more and longer
 * scratches, several dents, a cracked light; major — deep dents, a crumpled corner, a shattered
 * window, a hanging bumper. Only the damage tells the class apart.
 */

export interface DemoCar {
  id: string;
  label: DamageLabel;
  image: Uint8Array;
}

export interface CarOptions {
  count: number;
  seed: number;
  width: number;
  height: number;
}

export const DEFAULT_CARS: CarOptions = { count: 300, seed: 11, width: 128, height: 96 };

const PAINTS: Rgb[] = [
  [0.75, 0.1, 0.1],
  [0.1, 0.25, 0.6],
  [0.9, 0.9, 0.92],
  [0.15, 0.15, 0.17],
  [0.55, 0.57, 0.6],
  [0.1, 0.45, 0.25],
  [0.95, 0.75, 0.1],
  [0.45, 0.2, 0.5],
];

interface Dent {
  x: number;
  y: number;
  rx: number;
  ry: number;
  depth: number;
}

type Segment = [number, number, number, number];

interface Scene {
  w: number;
  h: number;
  flip: boolean;
  x0: number;
  ground: number;
  L: number;
  paint: Rgb;
  sky: [Rgb, Rgb];
  road: Rgb;
  brightness: number;
  scratches: { seg: Segment; width: number; light: boolean }[];
  dents: Dent[];
  crumple?: { side: 0 | 1; depth: number };
  windowCracks: Segment[];
  crackedLight: boolean;
  hangingBumper: boolean;
  dirt: { x: number; y: number; r: number }[];
}

const SEVERITY: Record<DamageLabel, { scratches: [number, number]; length: [number, number]; dents: [number, number]; dentSize: [number, number] }> = {
  minor: { scratches: [1, 3], length: [0.05, 0.12], dents: [0, 1], dentSize: [0.025, 0.045] },
  moderate: { scratches: [3, 6], length: [0.1, 0.22], dents: [2, 3], dentSize: [0.05, 0.085] },
  major: { scratches: [5, 9], length: [0.15, 0.35], dents: [3, 5], dentSize: [0.08, 0.13] },
};

function scene(label: DamageLabel, random: () => number, options: CarOptions): Scene {
  const { width: w, height: h } = options;
  const L = w * uniform(random, 0.66, 0.84);
  const x0 = uniform(random, 0.03 * w, w - L - 0.03 * w);
  const ground = h * uniform(random, 0.78, 0.88);
  const bodyTop = ground - 0.1 * L - 0.24 * L;
  const bodyBottom = ground - 0.08 * L;
  const pointOnBody = () => [x0 + uniform(random, 0.05, 0.95) * L, uniform(random, bodyTop + 0.02 * L, bodyBottom - 0.02 * L)] as const;
  const s = SEVERITY[label];
  const scratches = Array.from({ length: randInt(random, ...s.scratches) }, () => {
    const [x, y] = pointOnBody();
    const a = uniform(random, -0.5, 0.5) + (random() < 0.5 ? 0 : Math.PI);
    const length = uniform(random, ...s.length) * L;
    return { seg: [x, y, x + Math.cos(a) * length, y + Math.sin(a) * length * 0.5] as Segment, width: uniform(random, 0.5, label === 'major' ? 1.4 : 0.9), light: random() < 0.7 };
  });
  const dents = Array.from({ length: randInt(random, ...s.dents) }, () => {
    const [x, y] = pointOnBody();
    const r = uniform(random, ...s.dentSize) * L;
    return { x, y, rx: r * uniform(random, 1, 1.6), ry: r, depth: label === 'major' ? uniform(random, 0.45, 0.7) : uniform(random, 0.25, 0.45) };
  });
  const windowCracks: Segment[] = [];
  if (label === 'major' && random() < 0.75) {
    const cx = x0 + uniform(random, 0.35, 0.62) * L;
    const cy = bodyTop - uniform(random, 0.06, 0.12) * L;
    for (let i = 0; i < 9; i++) {
      const a = (i / 9) * Math.PI * 2 + uniform(random, -0.2, 0.2);
      const length = uniform(random, 0.06, 0.16) * L;
      windowCracks.push([cx, cy, cx + Math.cos(a) * length, cy + Math.sin(a) * length]);
    }
  }
  const sky = pick(random, [
    [[0.55, 0.72, 0.92], [0.85, 0.9, 0.97]],
    [[0.62, 0.64, 0.68], [0.82, 0.83, 0.85]],
    [[0.95, 0.7, 0.5], [0.6, 0.55, 0.7]],
    [[0.9, 0.92, 0.94], [0.98, 0.98, 0.98]],
  ] as [Rgb, Rgb][]);
  const road = pick(random, [[0.35, 0.35, 0.37], [0.5, 0.47, 0.42], [0.28, 0.4, 0.25]] as Rgb[]);
  return {
    w,
    h,
    flip: random() < 0.5,
    x0,
    ground,
    L,
    paint: pick(random, PAINTS),
    sky,
    road,
    brightness: uniform(random, 0.75, 1.2),
    scratches,
    dents,
    crumple: label === 'major' ? { side: random() < 0.5 ? 0 : 1, depth: uniform(random, 0.08, 0.16) } : undefined,
    windowCracks,
    crackedLight: label === 'moderate' ? random() < 0.6 : label === 'major',
    hangingBumper: label === 'major' && random() < 0.5,
    dirt: Array.from({ length: randInt(random, 0, 4) }, () => ({ x: x0 + random() * L, y: ground - random() * 0.35 * L, r: uniform(random, 0.01, 0.03) * L })),
  };
}

function render(sc: Scene, noiseSeed: number): Uint8Array {
  const { w, h, L, x0, ground } = sc;
  const data = new Uint8Array(w * h * 3);
  const noise = valueNoise(noiseSeed, 8);
  const crumpleNoise = valueNoise(noiseSeed + 1, 24);
  const bodyTop = ground - 0.1 * L - 0.24 * L;
  const bodyBottom = ground - 0.08 * L;
  const cabinTop = bodyTop - 0.19 * L;
  const wheelR = 0.105 * L;
  const wheelY = ground - wheelR;
  const wheels = [x0 + 0.2 * L, x0 + 0.8 * L];
  const corner = 0.06 * L;
  for (let y = 0; y < h; y++) {
    for (let xi = 0; xi < w; xi++) {
      // Mirror the scene for cars facing the other way (the layout below faces right).
      const x = sc.flip ? w - 1 - xi : xi;
      const u = (x - x0) / L; // 0 at the back, 1 at the front
      let r: number;
      let g: number;
      let b: number;
      if (y < ground - 0.02 * L) {
        const t = y / ground;
        r = sc.sky[0][0] + (sc.sky[1][0] - sc.sky[0][0]) * t;
        g = sc.sky[0][1] + (sc.sky[1][1] - sc.sky[0][1]) * t;
        b = sc.sky[0][2] + (sc.sky[1][2] - sc.sky[0][2]) * t;
      } else {
        const k = 0.9 + 0.2 * noise(x / w, y / h);
        r = sc.road[0] * k;
        g = sc.road[1] * k;
        b = sc.road[2] * k;
        if (u > 0 && u < 1 && y < ground + 0.04 * L) { r = r * 0.55; g = g * 0.55; b = b * 0.55; } // shadow
      }
      // Crumpled corner: the body outline is pushed in, jaggedly.
      let crumpled = false;
      if (sc.crumple) {
        const edge = sc.crumple.side === 1 ? 1 - u : u;
        const limit = sc.crumple.depth * (0.6 + 0.8 * crumpleNoise(x / w, y / h));
        crumpled = edge < limit && y < bodyBottom;
      }
      const inBody = u >= 0 && u <= 1 && y >= bodyTop && y <= bodyBottom && !crumpled && roundedInside(x - x0, y - bodyTop, L, bodyBottom - bodyTop, corner);
      const cabinLeft = 0.2 + ((bodyTop - y) / (bodyTop - cabinTop)) * 0.1;
      const cabinRight = 0.76 - ((bodyTop - y) / (bodyTop - cabinTop)) * 0.14;
      const inCabin = y < bodyTop && y >= cabinTop && u >= cabinLeft && u <= cabinRight && !crumpled;
      if (inBody || inCabin) {
        const inWindow = inCabin && y > cabinTop + 0.02 * L && u > cabinLeft + 0.025 && u < cabinRight - 0.025 && Math.abs(u - 0.49) > 0.012;
        if (inWindow) {
          const t = (y - cabinTop) / (bodyTop - cabinTop);
          r = 0.35 + 0.3 * t;
          g = 0.45 + 0.3 * t;
          b = 0.55 + 0.25 * t;
          for (const [ax, ay, bx, by] of sc.windowCracks) if (segmentDistance(x, y, ax, ay, bx, by) < 0.55) { r = 0.92; g = 0.94; b = 0.95; }
          if (sc.windowCracks.length && Math.hypot(x - sc.windowCracks[0]![0], y - sc.windowCracks[0]![1]) < 0.04 * L) { r = 0.8; g = 0.83; b = 0.85; }
        } else {
          const t = inBody ? (y - bodyTop) / (bodyBottom - bodyTop) : 0.2;
          let k = 1.12 - 0.4 * t + (Math.abs(t - 0.18) < 0.05 ? 0.18 : 0); // shading and a highlight line
          if (inBody && Math.abs(u - 0.49) < 0.006 && t < 0.8) k *= 0.55; // door seam
          if (inBody && Math.abs(u - 0.58) < 0.02 && Math.abs(t - 0.3) < 0.04) k *= 0.7; // handle
          if (inBody && t > 0.82) k *= 0.6; // bumper strip
          for (const d of sc.dents) {
            const dd = ((x - d.x) / d.rx) ** 2 + ((y - d.y) / d.ry) ** 2;
            if (dd < 1) k *= 1 - d.depth * (1 - dd) * (0.65 + 0.35 * ((x - d.x) / d.rx)) + (dd > 0.75 ? 0.15 : 0);
          }
          r = sc.paint[0] * k;
          g = sc.paint[1] * k;
          b = sc.paint[2] * k;
          for (const s of sc.scratches) {
            if (segmentDistance(x, y, s.seg[0], s.seg[1], s.seg[2], s.seg[3]) >= s.width) continue;
            if (s.light) {
              r = 0.82;
              g = 0.82;
              b = 0.8;
            } else {
              r *= 0.35;
              g *= 0.35;
              b *= 0.35;
            }
          }
          // Lights: headlight at the front, tail light at the back.
          if (inBody && u > 0.95 && t > 0.15 && t < 0.4) {
            const broken = sc.crackedLight && (Math.floor(x) + Math.floor(y)) % 3 === 0;
            r = broken ? 0.2 : 0.98;
            g = broken ? 0.2 : 0.95;
            b = broken ? 0.2 : 0.75;
          }
          if (inBody && u < 0.03 && t > 0.15 && t < 0.4) { r = 0.8; g = 0.1; b = 0.1; }
        }
        if (crumpledEdge(sc, u, y, bodyBottom, crumpleNoise, x / w, y / h)) { r = r * 0.3; g = g * 0.3; b = b * 0.3; }
      }
      if (sc.hangingBumper) {
        const front = x0 + L;
        if (segmentDistance(x, y, front - 0.25 * L, bodyBottom - 0.02 * L, front - 0.02 * L, ground - 0.01 * L) < 1.2) { r = 0.12; g = 0.12; b = 0.13; }
      }
      for (const cx of wheels) {
        const d = Math.hypot(x - cx, y - wheelY);
        if (d < wheelR) {
          const hub = d < wheelR * 0.55;
          const spoke = hub && Math.cos(Math.atan2(y - wheelY, x - cx) * 5) > 0.6;
          const v = hub ? (spoke ? 0.45 : 0.7) : 0.1;
          r = v;
          g = v;
          b = v * 1.05;
        }
      }
      for (const spot of sc.dirt) {
        if (Math.hypot(x - spot.x, y - spot.y) < spot.r) { r = r * 0.8 + 0.08; g = g * 0.78 + 0.06; b = b * 0.7 + 0.03; }
      }
      const o = (y * w + xi) * 3;
      data[o] = Math.round(clamp01(r * sc.brightness) * 255);
      data[o + 1] = Math.round(clamp01(g * sc.brightness) * 255);
      data[o + 2] = Math.round(clamp01(b * sc.brightness) * 255);
    }
  }
  return data;
}

function roundedInside(x: number, y: number, width: number, height: number, radius: number): boolean {
  const cx = Math.min(Math.max(x, radius), width - radius);
  const cy = Math.min(Math.max(y, radius), height - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius;
}

/** Dark creases just inside a crumpled corner's jagged outline. */
function crumpledEdge(sc: Scene, u: number, y: number, bodyBottom: number, n: (x: number, y: number) => number, nx: number, ny: number): boolean {
  if (!sc.crumple || y >= bodyBottom) return false;
  const edge = sc.crumple.side === 1 ? 1 - u : u;
  const limit = sc.crumple.depth * (0.6 + 0.8 * n(nx, ny));
  return edge >= limit && edge < limit + 0.035 + 0.03 * Math.sin(y * 1.7);
}

/**
 * Car `index`: the label cycles minor → moderate → major so classes stay balanced; everything else
 * comes from the image's own seeded generator. Deterministic in (seed, index).
 */
export function generateCar(index: number, options: CarOptions = DEFAULT_CARS): DemoCar {
  const label = DAMAGE_LABELS[index % DAMAGE_LABELS.length]!;
  const random = rng(options.seed, 'car', index);
  const sc = scene(label, random, options);
  const image = encodePng({ width: options.width, height: options.height, channels: 3, data: render(sc, Math.floor(random() * 2 ** 31)) }, 3);
  return { id: `car-${String(index).padStart(4, '0')}`, label, image };
}

export function generateCars(options: Partial<CarOptions> = {}): DemoCar[] {
  const full = { ...DEFAULT_CARS, ...options };
  return Array.from({ length: full.count }, (_, i) => generateCar(i, full));
}
