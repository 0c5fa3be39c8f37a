import { createRng as rng } from '../detection/seeded-random';
import { InvalidStatsError, RunningStats } from './running-stats';

function gaussian(r: () => number): number {
  const u = 1 - r();
  const v = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Neumaier-compensated sum, so the reference itself is not the weak link. */
function sum(xs: number[]): number {
  let s = 0;
  let c = 0;
  for (const x of xs) {
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

/**
 * Direct two-pass computation. Values are first shifted by the first value (exact for data like
 * 1e9 + noise, whose differences are representable), so the reference stays accurate where the
 * naive sum of 1e9-sized numbers would not.
 */
function twoPass(xs: number[]) {
  const n = xs.length;
  const shift = xs[0];
  const d = xs.map((x) => x - shift);
  const meanD = sum(d) / n;
  const dev = d.map((x) => x - meanD);
  // One correction step: the mean of the deviations is ~0 up to rounding.
  const corr = sum(dev) / n;
  const e = dev.map((x) => x - corr);
  const m2 = sum(e.map((x) => x * x));
  const m3 = sum(e.map((x) => x * x * x));
  const m4 = sum(e.map((x) => x * x * x * x));
  return { count: n, mean: shift + meanD + corr, m2, m3, m4 };
}

type Gen = (r: () => number) => number;
const distributions: Record<string, Gen> = {
  gaussian: (r) => 22 + 1.5 * gaussian(r),
  lognormal: (r) => Math.exp(3 + 0.8 * gaussian(r)),
  uniform: (r) => -50 + 100 * r(),
  'large offset (1e9 + small noise)': (r) => 1e9 + 1e-3 * gaussian(r),
  'poisson-like integers with repeats': (r) => Math.floor(-Math.log(1 - r()) * 3),
};

function sample(gen: Gen, n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => gen(r));
}

/** Moments compared on scale-free terms: mean in units of std, M2 relative, skewness/kurtosis absolute. */
function expectClose(actual: RunningStats, xs: number[], tol = 1e-9) {
  const ref = twoPass(xs);
  expect(actual.count).toBe(ref.count);
  const scale = Math.sqrt(ref.m2 / ref.count) || 1;
  // The mean itself cannot be closer than a few ulps of its magnitude (1e9 has a 1.2e-7 ulp).
  expect(Math.abs(actual.mean - ref.mean)).toBeLessThanOrEqual(tol * scale + 4 * Number.EPSILON * Math.abs(ref.mean));
  expect(Math.abs(actual.m2 - ref.m2) / (ref.m2 || 1)).toBeLessThan(tol);
  const refSkew = ref.m2 > 0 ? (Math.sqrt(ref.count) * ref.m3) / Math.pow(ref.m2, 1.5) : 0;
  const refKurt = ref.m2 > 0 ? (ref.count * ref.m4) / (ref.m2 * ref.m2) - 3 : 0;
  expect(Math.abs(actual.skewness - refSkew)).toBeLessThan(tol * 10);
  expect(Math.abs(actual.kurtosis - refKurt)).toBeLessThan(tol * 100);
}

describe('RunningStats', () => {
  describe.each(Object.entries(distributions))('%s', (_name, gen) => {
    it('push matches a direct two-pass computation', () => {
      for (let seed = 1; seed <= 20; seed++) {
        const n = 1 + Math.floor(rng(seed * 7)() * 3000);
        const xs = sample(gen, n, seed);
        expectClose(RunningStats.of(xs), xs);
      }
    });

    it('merging many random splits equals the stats of the union', () => {
      for (let seed = 1; seed <= 20; seed++) {
        const r = rng(1000 + seed);
        const xs = sample(gen, 500 + Math.floor(r() * 2000), seed);
        // Cut into random parts (some empty), fold them in a random tree order.
        const cuts = Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * xs.length)).sort(
          (a, b) => a - b,
        );
        const bounds = [0, ...cuts, xs.length];
        let parts = bounds.slice(1).map((end, i) => RunningStats.of(xs.slice(bounds[i], end)));
        while (parts.length > 1) {
          const i = Math.floor(r() * (parts.length - 1));
          parts.splice(i, 2, parts[i].merge(parts[i + 1]));
        }
        expectClose(parts[0], xs);
      }
    });
  });

  it('population std, as the reference app writes it: sqrt(M2 / count)', () => {
    const s = RunningStats.of([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.m2).toBeCloseTo(32, 12);
    expect(s.variance).toBeCloseTo(4, 12);
    expect(s.std).toBeCloseTo(2, 12);
    expect(Object.keys(s.toJSON())).toEqual(['count', 'mean', 'M2', 'std', 'M3', 'M4']);
  });

  it('known moments: skewness of a lognormal sample is positive, kurtosis of uniform is about -1.2', () => {
    const logn = RunningStats.of(sample(distributions.lognormal, 50_000, 3));
    expect(logn.skewness).toBeGreaterThan(1.5);
    const uni = RunningStats.of(sample(distributions.uniform, 50_000, 4));
    expect(uni.kurtosis).toBeCloseTo(-1.2, 1);
    expect(Math.abs(uni.skewness)).toBeLessThan(0.05);
  });

  it('empty and constant data give defined values', () => {
    const empty = new RunningStats();
    expect([empty.count, empty.variance, empty.std, empty.skewness, empty.kurtosis]).toEqual([0, 0, 0, 0, 0]);
    const constant = RunningStats.of([3, 3, 3, 3]);
    expect([constant.mean, constant.std, constant.skewness, constant.kurtosis]).toEqual([3, 0, 0, 0]);
    expect(new RunningStats().merge(constant).toJSON()).toEqual(constant.toJSON());
    expect(constant.clone().merge(new RunningStats()).toJSON()).toEqual(constant.toJSON());
  });

  it('skips missing and non-finite values instead of poisoning the moments', () => {
    const s = new RunningStats();
    expect(s.push(NaN)).toBe(false);
    expect(s.push(Infinity)).toBe(false);
    expect(s.push(1)).toBe(true);
    expect(s.push(3)).toBe(true);
    expect(s.toJSON()).toEqual(RunningStats.of([1, 3]).toJSON());
  });

  it('decay keeps mean, variance, skewness and kurtosis and scales the weight', () => {
    const xs = sample(distributions.lognormal, 1000, 9);
    const s = RunningStats.of(xs);
    const d = s.clone().decay(0.25);
    expect(d.count).toBeCloseTo(250, 9);
    expect(d.mean).toBe(s.mean);
    expect(d.variance).toBeCloseTo(s.variance, 9);
    expect(d.skewness).toBeCloseTo(s.skewness, 9);
    expect(d.kurtosis).toBeCloseTo(s.kurtosis, 9);
    expect(() => s.decay(0)).toThrow(RangeError);
    expect(() => s.decay(1.5)).toThrow(RangeError);
  });

  it('decayed (fractional) weights merge exactly like weighted data', () => {
    // Weight 0.5 on [a, b] equals one observation at each with half weight: compare with a direct
    // weighted two-pass computation.
    const a = sample(distributions.gaussian, 300, 11);
    const b = sample(distributions.lognormal, 200, 12);
    const merged = RunningStats.of(a).decay(0.5).merge(RunningStats.of(b));
    const w = [...a.map(() => 0.5), ...b.map(() => 1)];
    const xs = [...a, ...b];
    const W = sum(w);
    const mean = sum(xs.map((x, i) => w[i] * x)) / W;
    const m2 = sum(xs.map((x, i) => w[i] * (x - mean) ** 2));
    const m3 = sum(xs.map((x, i) => w[i] * (x - mean) ** 3));
    const m4 = sum(xs.map((x, i) => w[i] * (x - mean) ** 4));
    expect(merged.count).toBeCloseTo(W, 9);
    expect(merged.mean).toBeCloseTo(mean, 9);
    expect(merged.m2 / m2).toBeCloseTo(1, 9);
    expect(merged.m3 / m3).toBeCloseTo(1, 9);
    expect(merged.m4 / m4).toBeCloseTo(1, 9);
    // push after a decay is the same weighted update as a merge of a single value.
    const pushed = RunningStats.of(a).decay(0.5);
    b.forEach((x) => pushed.push(x));
    expect(pushed.mean).toBeCloseTo(mean, 9);
    expect(pushed.m4 / m4).toBeCloseTo(1, 9);
  });

  it('capWeight lowers the weight to exactly the cap, keeping the shape', () => {
    const s = RunningStats.of(sample(distributions.lognormal, 1000, 13));
    const c = s.clone().capWeight(30);
    expect(c.count).toBe(30);
    expect(c.mean).toBe(s.mean);
    expect(c.variance).toBeCloseTo(s.variance, 9);
    expect(c.skewness).toBeCloseTo(s.skewness, 9);
    expect(RunningStats.of([1, 2]).capWeight(30).count).toBe(2);
  });

  it('clone is independent', () => {
    const s = RunningStats.of([1, 2, 3]);
    const c = s.clone();
    c.push(100);
    expect(s.count).toBe(3);
    expect(c.count).toBe(4);
  });

  describe('JSON', () => {
    it('round trips exactly', () => {
      const s = RunningStats.of(sample(distributions.lognormal, 777, 5));
      const back = RunningStats.from(JSON.parse(JSON.stringify(s)));
      expect(back.toJSON()).toEqual(s.toJSON());
    });

    it('after normalize(), a reloaded copy continues bit-identically', () => {
      const r = rng(21);
      const a = RunningStats.of(sample(distributions['large offset (1e9 + small noise)'], 500, 22)).normalize();
      const b = RunningStats.from(JSON.parse(JSON.stringify(a)));
      for (let i = 0; i < 20; i++) {
        const part = RunningStats.of(sample(distributions['large offset (1e9 + small noise)'], 50, 100 + i));
        a.merge(part).normalize();
        b.merge(part).normalize();
        if (r() < 0.5) {
          const x = a.mean + 1e-3;
          a.push(x);
          b.push(x);
        }
      }
      expect(b.toJSON()).toEqual(a.toJSON());
    });

    it('loads a reference-written entry (no M3/M4) as Gaussian', () => {
      const s = RunningStats.from({ count: 300, mean: 22.01, M2: 675, std: 1.5 });
      expect(s.m3).toBe(0);
      expect(s.m4).toBeCloseTo((3 * 675 * 675) / 300, 9);
      expect(s.skewness).toBe(0);
      expect(s.kurtosis).toBeCloseTo(0, 12);
      expect(s.std).toBeCloseTo(1.5, 12);
    });

    it('loads the reference entry for one observation (std 0.0) and for count 0', () => {
      expect(RunningStats.from({ count: 1, mean: 5, M2: 0, std: 0 }).std).toBe(0);
      expect(RunningStats.from({ count: 0, mean: 0, M2: 0 }).count).toBe(0);
    });

    it.each([
      [null, /must be an object/],
      [[1, 2], /must be an object .* an array/],
      ['x', /must be an object/],
      [{ mean: 1, M2: 0 }, /temperature\.count must be a finite number >= 0, got nothing/],
      [{ count: -1, mean: 1, M2: 0 }, /temperature\.count must be a finite number >= 0, got -1/],
      [{ count: 3, mean: '1', M2: 0 }, /temperature\.mean must be a finite number, got "1"/],
      [{ count: 3, mean: 1, M2: -2 }, /temperature\.M2 must be a finite number >= 0/],
      [{ count: 3, mean: 1, M2: 2, M4: -1 }, /temperature\.M4/],
      [{ count: 3, mean: 1, M2: 2, std: 'big' }, /temperature\.std/],
      [{ count: 0, mean: 0, M2: 5 }, /count is 0 but the moment sums are not/],
    ])('rejects %j with a message naming the field', (json, message) => {
      expect(() => RunningStats.from(json, 'temperature')).toThrow(InvalidStatsError);
      expect(() => RunningStats.from(json, 'temperature')).toThrow(message);
    });
  });
});
