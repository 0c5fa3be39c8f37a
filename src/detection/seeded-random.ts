/**
 * A small seeded PRNG and the few distributions the generator and the forest need.
 *
 * Why our own: the service must give byte-identical output for the same input, baseline and
 * configuration, so nothing in scoring or evaluation may draw from `Math.random`.
 */

export type Rng = () => number;

/**
 * mulberry32: 32 bits of state, period 2^32, passes the usual quick statistical batteries; plenty for
 * subsampling and synthetic data. Returns uniform numbers in [0, 1).
 */
export function createRng(seed: number): Rng {
  let a = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed from a base seed and a stream index (so streams do not overlap). */
export function deriveSeed(seed: number, index: number): number {
  let h = (Math.trunc(seed) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Integer uniform in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** Standard normal by Box-Muller (one draw per call: simpler to keep deterministic than caching). */
export function standardNormal(rng: Rng): number {
  let u = rng();
  while (u <= 0) u = rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function normal(rng: Rng, mean: number, std: number): number {
  return mean + std * standardNormal(rng);
}

/** Gamma(shape, 1) by Marsaglia-Tsang (shape < 1 via the boost u^(1/shape)). */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) {
    let u = rng();
    while (u <= 0) u = rng();
    return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/** Poisson by Knuth's product of uniforms (fine for the small rates used here; a normal beyond 500). */
export function poisson(rng: Rng, lambda: number): number {
  if (lambda > 500) return Math.max(0, Math.round(normal(rng, lambda, Math.sqrt(lambda))));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = rng();
  while (p > l) {
    k++;
    p *= rng();
  }
  return k;
}

/** k distinct integers from [0, n), in draw order (partial Fisher-Yates on a scratch array). */
export function sampleWithoutReplacement(rng: Rng, n: number, k: number, scratch?: Int32Array): Int32Array {
  const idx = scratch && scratch.length >= n ? scratch : new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + randomInt(rng, n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, m);
}
