import { encodePng } from '../png';
import { normal, pick, rng, uniform } from '../random';
import { textInk } from './font';
import { clamp01, mix, put, segmentDistance, valueNoise, type Rgb } from './raster';

/**
 * Synthetic coins whose look depends on the minting year, so a model can genuinely learn it:
 * - the year is struck on the obverse (5×7 bitmap digits), rotated with the coin;
 * - the era sets the design: portrait style, legend, beaded rim, reverse motif, and the metals used;
 * - age darkens the metal, adds patina (green on copper, toning on silver), wear (softer relief) and
 *   scratches;
 * - each coin gets its own rotation, lighting direction, brightness, background and size jitter, so
 *   none of those nuisance factors tell the year.
 */

export interface DemoCoin {
  id: string;
  year: number;
  front: Uint8Array;
  back: Uint8Array;
}

export interface CoinOptions {
  count: number;
  seed: number;
  /** Image side in pixels. */
  size: number;
  minYear: number;
  maxYear: number;
}

export const DEFAULT_COINS: CoinOptions = { count: 300, seed: 7, size: 112, minYear: 1850, maxYear: 2020 };

type Era = 'classic' | 'art' | 'mid' | 'modern';
type Metal = 'silver' | 'copper' | 'brass' | 'nickel' | 'bimetal';

export function eraOf(year: number): Era {
  return year < 1890 ? 'classic' : year < 1935 ? 'art' : year < 1980 ? 'mid' : 'modern';
}

const METALS: Record<Era, Metal[]> = {
  classic: ['silver', 'silver', 'silver', 'copper', 'copper'],
  art: ['copper', 'copper', 'silver', 'silver', 'brass'],
  mid: ['nickel', 'nickel', 'copper', 'copper', 'silver'],
  modern: ['bimetal', 'bimetal', 'nickel', 'brass', 'brass'],
};

const COLORS: Record<Exclude<Metal, 'bimetal'>, Rgb> = {
  silver: [0.8, 0.8, 0.82],
  copper: [0.74, 0.46, 0.27],
  brass: [0.82, 0.69, 0.36],
  nickel: [0.68, 0.7, 0.69],
};

const GREEN_PATINA: Rgb = [0.26, 0.42, 0.33];
const TONING: Rgb = [0.32, 0.27, 0.22];

const LEGENDS: Record<Era, [string, string]> = {
  classic: ['LIBERTAS', 'REPUBLICA'],
  art: ['LIBERTY', 'UNITED STATES'],
  mid: ['UNITED STATES', 'E PLURIBUS UNUM'],
  modern: ['REPUBLIC', 'EURO'],
};

const BACKGROUNDS: Rgb[] = [
  [0.12, 0.14, 0.2],
  [0.2, 0.2, 0.22],
  [0.86, 0.85, 0.82],
  [0.42, 0.3, 0.2],
  [0.16, 0.28, 0.22],
];

const ring = (count: number, radius: number, from: number, step: number) =>
  Array.from({ length: count }, (_, i) => [radius * Math.cos(Math.PI * (from + i * step)), radius * Math.sin(Math.PI * (from + i * step))] as const);
const LAUREL = ring(9, 1, 1.05, 0.11);
const WREATH = ring(22, 0.52, 0.62, 0.08);
const STARS = ring(12, 0.6, 0, 2 / 12);

/** A raised ellipse: a dome of height 1 in its middle, 0 outside. */
function dome(u: number, v: number, cx: number, cy: number, rx: number, ry: number): number {
  const d = ((u - cx) / rx) ** 2 + ((v - cy) / ry) ** 2;
  return d >= 1 ? 0 : 0.65 + 0.35 * (1 - d);
}

/** Text along the top arc at radius `radius`, upright, `unit` coin units per font pixel. */
function arcText(text: string, u: number, v: number, radius: number, unit: number): boolean {
  const r = Math.hypot(u, v);
  if (Math.abs(r - radius) > unit * 4.5) return false;
  const s = (Math.atan2(v, u) + Math.PI / 2) * radius; // arc length from the top, clockwise
  return textInk(text, s / unit, -(r - radius) / unit);
}

interface Design {
  era: Era;
  year: number;
  yearText: string;
  value: string;
  headScale: number;
  hairFreq: number;
  rimWidth: number;
}

function obverse(u: number, v: number, d: Design): number {
  const r = Math.hypot(u, v);
  if (r > 1 - d.rimWidth) return 1;
  if ((d.era === 'classic' || d.era === 'art') && r > 0.8 && r < 0.86 && Math.cos(Math.atan2(v, u) * 72) > 0.2) return 0.9;
  if (arcText(LEGENDS[d.era][0], u, v, 0.71, 0.019)) return 0.85;
  if (v > 0.45 && v < 0.7 && textInk(d.yearText, u / 0.027, (v - 0.57) / 0.027)) return 0.95;
  const s = d.headScale;
  switch (d.era) {
    case 'classic': {
      let h = dome(u, v, 0.02, -0.06, 0.24 * s, 0.3 * s);
      if (u > -0.36 * s && u < -0.18 * s && v > -0.1 && v < 0.02 && u - -0.36 * s > (v + 0.1) * 0.6) h = Math.max(h, 0.7); // nose
      if (u > -0.06 && u < 0.12 && v > 0.16 && v < 0.36) h = Math.max(h, 0.6); // neck
      if (h > 0 || (u * u + (v + 0.06) ** 2 < 0.16 * s * s)) {
        for (const [cu, cv] of LAUREL) h = Math.max(h, dome(u, v, 0.04 + 0.27 * s * cu, -0.06 + 0.3 * s * cv, 0.06, 0.03) * 1.1);
      }
      return h;
    }
    case 'art': {
      const head = dome(u, v, -0.02, -0.05, 0.25 * s, 0.31 * s);
      if (head === 0) return u < 0.12 && u > -0.1 && v > 0.18 && v < 0.4 ? 0.55 : 0;
      const hair = u - v * 0.3 < -0.02 && v < 0.1; // flowing hair on the back of the head, facing right
      return hair ? head * (Math.sin((u + v) * d.hairFreq) > 0 ? 1 : 0.75) : head;
    }
    case 'mid': {
      const head = dome(u, v, 0, -0.14, 0.19 * s, 0.24 * s);
      const shoulders = v < 0.42 ? dome(u, v, 0, 0.4, 0.44, 0.24) : 0;
      const tie = Math.abs(u) < 0.05 && v > 0.16 && v < 0.4 ? 0.9 : 0;
      return Math.max(head, shoulders * 0.9, tie);
    }
    case 'modern': {
      // A stylised, faceted profile: a hexagon cut by grooves, inside a thin inner ring.
      if (Math.abs(r - 0.5) < 0.015) return 0.7;
      const a = Math.atan2(v + 0.05, u);
      const hex = (0.3 * s * Math.cos(Math.PI / 6)) / Math.cos(((a % (Math.PI / 3)) + Math.PI / 3) % (Math.PI / 3) - Math.PI / 6);
      if (Math.hypot(u, v + 0.05) < hex) return Math.sin(u * d.hairFreq) > 0.6 ? 0.55 : 0.85;
      return 0;
    }
  }
}

function reverse(u: number, v: number, d: Design): number {
  const r = Math.hypot(u, v);
  if (r > 1 - d.rimWidth) return 1;
  if (d.era !== 'modern' && r > 0.8 && r < 0.86 && Math.cos(Math.atan2(v, u) * 72) > 0.2) return 0.9;
  if (arcText(LEGENDS[d.era][1], u, v, 0.71, 0.018)) return 0.85;
  switch (d.era) {
    case 'classic': {
      if (textInk(d.value, u / 0.05, (v + 0.04) / 0.05)) return 1;
      if (textInk('CENT', u / 0.022, (v - 0.22) / 0.022)) return 0.85;
      if (Math.abs(r - 0.52) > 0.06) return 0;
      let h = 0;
      for (const [cu, cv] of WREATH) h = Math.max(h, dome(u, v, cu, cv, 0.05, 0.05));
      return h;
    }
    case 'art': {
      if (textInk(d.value, u / 0.055, v / 0.055)) return 1;
      let h = 0;
      for (const side of [-1, 1]) {
        for (let i = 0; i < 8; i++) {
          const cy = -0.42 + i * 0.11;
          h = Math.max(h, dome(u, v, side * (0.45 - i * 0.012) + side * 0.05 * (i % 2 ? 1 : -1), cy, 0.045, 0.07));
        }
      }
      return h;
    }
    case 'mid': {
      if (Math.abs(u) < 0.12 && v > -0.16 && v < 0.22) return Math.cos(u * 80) > 0 ? 0.95 : 0.7; // shield
      for (const side of [-1, 1]) {
        const w = dome(u, v, side * 0.28, -0.1, 0.26, 0.15);
        if (w > 0) return Math.cos(Math.atan2(v + 0.1, u - side * 0.05) * 28) > 0 ? w : w * 0.7; // feathers
      }
      if (textInk(d.value, u / 0.03, (v - 0.45) / 0.03)) return 0.95;
      return 0;
    }
    case 'modern': {
      if (Math.abs(r - 0.6) < 0.04) for (const [cu, cv] of STARS) if ((u - cu) ** 2 + (v - cv) ** 2 < 0.035 ** 2) return 0.9; // ring of stars
      if (Math.abs(r - 0.45) < 0.012) return 0.7;
      if (textInk(d.value, u / 0.065, v / 0.065)) return 1;
      return 0;
    }
  }
}

/** Left, right, up, down (±2 stands for a row). */
const NEIGHBOURS = [-1, 1, -2, 2] as const;

interface Look {
  metal: Metal;
  age: number;
  rotation: number;
  light: [number, number];
  brightness: number;
  background: Rgb;
  radius: number;
  center: [number, number];
  noiseSeed: number;
  scratches: [number, number, number, number][];
}

function renderSide(side: (u: number, v: number, d: Design) => number, design: Design, look: Look, size: number, flip: boolean): Uint8Array {
  const n = size * size;
  const height = new Float32Array(n).fill(Number.NaN);
  const R = look.radius * size;
  const [cx, cy] = [look.center[0] * size, look.center[1] * size];
  const rotation = look.rotation + (flip ? Math.PI * 0.37 : 0);
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = (x + 0.5 - cx) / R;
      const py = (y + 0.5 - cy) / R;
      if (px * px + py * py > 1) continue;
      height[y * size + x] = side(px * cos + py * sin, -px * sin + py * cos, design);
    }
  }
  // Wear flattens the relief: blur it once for old coins.
  if (look.age > 0.45) {
    const copy = height.slice();
    for (let y = 1; y < size - 1; y++) {
      for (let x = 1; x < size - 1; x++) {
        const i = y * size + x;
        if (Number.isNaN(copy[i]!)) continue;
        let sum = copy[i]!;
        let count = 1;
        for (const j of NEIGHBOURS) {
          const value = copy[i + (j === 2 ? size : j === -2 ? -size : j)]!;
          if (!Number.isNaN(value)) {
            sum += value;
            count++;
          }
        }
        height[i] = sum / count;
      }
    }
  }
  const noise = valueNoise(look.noiseSeed + (flip ? 1 : 0), 9);
  const fine = valueNoise(look.noiseSeed + 2, 40);
  const bgNoise = valueNoise(look.noiseSeed + 3, 6);
  const relief = 1.6 * (1.15 - 0.7 * look.age);
  const darken = 1 - 0.5 * look.age ** 0.8;
  const data = new Uint8Array(n * 3);
  const [lx, ly] = look.light;
  const at = (x: number, y: number) => {
    const h = height[Math.min(size - 1, Math.max(0, y)) * size + Math.min(size - 1, Math.max(0, x))]!;
    return Number.isNaN(h) ? 0 : h;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const h = height[i]!;
      const nx = x / size;
      const ny = y / size;
      if (Number.isNaN(h)) {
        // Background, with the coin's shadow cast away from the light.
        const sx = (x + 0.5 - cx + lx * R * 0.08) / R;
        const sy = (y + 0.5 - cy + ly * R * 0.08) / R;
        const shadow = sx * sx + sy * sy < 1.04 ? 0.6 : 1;
        const shade = (0.85 + 0.3 * bgNoise(nx, ny) - 0.15 * ny) * shadow * look.brightness;
        put(data, i, [look.background[0] * shade, look.background[1] * shade, look.background[2] * shade]);
        continue;
      }
      const px = (x + 0.5 - cx) / R;
      const py = (y + 0.5 - cy) / R;
      const metal: Exclude<Metal, 'bimetal'> = look.metal === 'bimetal' ? (px * px + py * py > 0.3844 ? 'nickel' : 'brass') : look.metal;
      const base = COLORS[metal];
      const gx = at(x + 1, y) - at(x - 1, y);
      const gy = at(x, y + 1) - at(x, y - 1);
      const lit = 0.72 + 0.22 * h - relief * (gx * lx + gy * ly) * 0.5;
      const specular = 0.18 * Math.exp(-((px + lx * 0.45) ** 2 + (py + ly * 0.45) ** 2) / 0.18);
      // Patina gathers in blotches and in the recesses (low relief), more with age.
      const patinaAmount = clamp01(look.age * (0.35 + 0.9 * (noise(nx, ny) - 0.3)) * (1.2 - 0.6 * h)) * (metal === 'nickel' ? 0.5 : 0.8);
      const patina = metal === 'copper' || metal === 'brass' ? GREEN_PATINA : TONING;
      let k = (lit + specular) * darken * look.brightness;
      k *= 1 - 0.08 * look.age * fine(nx, ny);
      for (let j = 0; j < look.scratches.length; j++) {
        const [ax, ay, bx, by] = look.scratches[j]!;
        if (x >= Math.min(ax, bx) - 1 && x <= Math.max(ax, bx) + 1 && y >= Math.min(ay, by) - 1 && y <= Math.max(ay, by) + 1 && segmentDistance(x, y, ax, ay, bx, by) < 0.6) k *= 1.25;
      }
      const o = i * 3;
      for (let c = 0; c < 3; c++) data[o + c] = Math.round(clamp01((base[c]! + (patina[c]! - base[c]!) * patinaAmount) * k) * 255);
    }
  }
  return data;
}

/** The year of coin `index` (uniform over the range, from the coin's own generator). */
function drawYear(random: () => number, options: CoinOptions): number {
  return options.minYear + Math.floor(random() * (options.maxYear - options.minYear + 1));
}

/**
 * One coin, deterministic in (seed, index): the same call always returns byte-identical PNGs.
 * @example const coin = generateCoin(0, DEFAULT_COINS); // { id: 'coin-0000', year: 1911, front, back }
 */
export function generateCoin(index: number, options: CoinOptions = DEFAULT_COINS, year?: number): DemoCoin {
  const random = rng(options.seed, 'coin', index);
  const y = year ?? drawYear(random, options);
  const era = eraOf(y);
  const span = Math.max(1, 2025 - 1850);
  const age = clamp01((2025 - y) / span);
  const design: Design = {
    era,
    year: y,
    yearText: String(y),
    value: pick(random, ['1', '5', '10', '25', '50']),
    headScale: 0.92 + 0.16 * ((y % 45) / 45), // portraits were redrawn now and then
    hairFreq: 30 + (y % 17),
    rimWidth: era === 'modern' ? 0.05 : 0.08,
  };
  const angle = uniform(random, 0, Math.PI * 2);
  const scratchCount = Math.round(age * 6 * random());
  const size = options.size;
  const look: Look = {
    metal: pick(random, METALS[era]),
    age: clamp01(age * (0.85 + 0.3 * random())),
    rotation: uniform(random, 0, Math.PI * 2),
    light: [Math.cos(angle), Math.sin(angle)],
    brightness: clamp01(1 + 0.12 * normal(random)) + 0.4,
    background: mix(pick(random, BACKGROUNDS), [random(), random(), random()], 0.15),
    radius: uniform(random, 0.4, 0.47),
    center: [0.5 + uniform(random, -0.03, 0.03), 0.5 + uniform(random, -0.03, 0.03)],
    noiseSeed: Math.floor(random() * 2 ** 31),
    scratches: Array.from({ length: scratchCount }, () => {
      const ax = uniform(random, 0.25, 0.75) * size;
      const ay = uniform(random, 0.25, 0.75) * size;
      const a = uniform(random, 0, Math.PI * 2);
      const length = uniform(random, 0.08, 0.3) * size;
      return [ax, ay, ax + Math.cos(a) * length, ay + Math.sin(a) * length] as [number, number, number, number];
    }),
  };
  look.brightness = Math.min(1.25, Math.max(0.8, look.brightness - 0.4));
  const front = encodePng({ width: size, height: size, channels: 3, data: renderSide(obverse, design, look, size, false) }, 3);
  const back = encodePng({ width: size, height: size, channels: 3, data: renderSide(reverse, design, look, size, true) }, 3);
  return { id: `coin-${String(index).padStart(4, '0')}`, year: y, front, back };
}

/** `count` coins, deterministic in the seed. */
export function generateCoins(options: Partial<CoinOptions> = {}): DemoCoin[] {
  const full = { ...DEFAULT_COINS, ...options };
  return Array.from({ length: full.count }, (_, i) => generateCoin(i, full));
}
