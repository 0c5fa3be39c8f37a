import { createRng, standardNormal } from './seeded-random';
import { SKETCH_BINS, sketchBin, sketchEdge, TailModel, TailSketch, TwoSidedSketch } from './tail-sketch';

function sideOf(values: number[]): TailSketch {
  const s = new TailSketch();
  for (const v of values) s.add(v);
  return s;
}

describe('TailSketch', () => {
  it('bins by fixed logarithmic edges, so that merging is adding and order does not matter', () => {
    expect(sketchBin(0)).toBe(0);
    expect(sketchBin(0.049)).toBe(0);
    expect(sketchBin(0.05)).toBe(1);
    expect(sketchEdge(sketchBin(3.7))).toBeLessThanOrEqual(3.7);
    expect(sketchEdge(sketchBin(3.7) + 1)).toBeGreaterThan(3.7);
    expect(sketchBin(1e12)).toBe(SKETCH_BINS - 1);
    const rng = createRng(1);
    const xs = Array.from({ length: 500 }, () => Math.abs(standardNormal(rng)));
    const whole = sideOf(xs);
    const parts = sideOf(xs.slice(0, 200)).merge(sideOf(xs.slice(200)));
    expect(Array.from(parts.weight)).toEqual(Array.from(whole.weight));
    expect(whole.total).toBe(500);
  });

  it('round-trips through JSON (only the bins with weight), decays, and refuses a malformed entry', () => {
    const s = sideOf([0.1, 0.1, 2, 30]).decay(0.5);
    const back = TailSketch.fromJSON(JSON.parse(JSON.stringify(s.toJSON())), 'tails');
    expect(Array.from(back.weight)).toEqual(Array.from(s.weight));
    expect(s.toJSON()).toHaveLength(3);
    expect(back.total).toBe(2);
    expect(() => TailSketch.fromJSON([[SKETCH_BINS, 1]], 'x.tails')).toThrow(/x\.tails\[0\] must be \[bin 0-/);
    expect(() => TailSketch.fromJSON([[1, -1]], 'x')).toThrow(TypeError);
    const two = new TwoSidedSketch();
    two.add(-2);
    two.add(3, 0.5);
    expect([two.lower.total, two.upper.total, two.total]).toEqual([1, 0.5, 1.5]);
    expect(TwoSidedSketch.revive(JSON.parse(JSON.stringify({ upper: { weight: Array.from(two.upper.weight) }, lower: { weight: Array.from(two.lower.weight) } }))).total).toBe(1.5);
  });
});

describe('TailModel', () => {
  const rng = createRng(7);
  const gaussianSides = (n: number) => {
    const t = new TwoSidedSketch();
    for (let i = 0; i < n; i++) t.add(standardNormal(rng));
    return t;
  };

  it('reads a Gaussian bulk as Gaussian: its limits are the normal quantiles', () => {
    const t = gaussianSides(50000);
    const up = new TailModel(t.upper, t.total);
    expect(up.heavy).toBe(false);
    expect(up.limit(0.001 / 8)).toBeGreaterThan(3.5);
    expect(up.limit(0.001 / 8)).toBeLessThan(3.85);
    expect(up.p(3)).toBeGreaterThan(0.0009);
    expect(up.p(3)).toBeLessThan(0.0018);
  });

  it('keeps a Gaussian sharp when a few per cent of its values are spikes far out', () => {
    const t = gaussianSides(20000);
    for (let i = 0; i < 250; i++) t.add((rng() < 0.5 ? -1 : 1) * (5 + 3 * rng()));
    const up = new TailModel(t.upper, t.total);
    expect(up.heavy).toBe(false);
    expect(up.limit(0.001 / 8)).toBeLessThan(4.2);
  });

  it('reads a heavy bulk as heavy: an exponential (Laplace) tail keeps 5 sigma ordinary', () => {
    const t = new TwoSidedSketch();
    for (let i = 0; i < 50000; i++) t.add(((rng() < 0.5 ? -1 : 1) * Math.log(1 / (1 - rng()))) / Math.SQRT2);
    const up = new TailModel(t.upper, t.total);
    expect(up.heavy).toBe(true);
    // Laplace with unit std: P(X > 5) = 0.5 exp(-5 sqrt 2) = 4.2e-4.
    expect(up.p(5) / 4.2e-4).toBeGreaterThan(0.5);
    expect(up.p(5) / 4.2e-4).toBeLessThan(2);
    expect(up.limit(0.001 / 8)).toBeGreaterThan(5.5);
  });

  it('limit and p agree, and p falls monotonically, inside and beyond the data', () => {
    for (const side of [gaussianSides(3000).upper, sideOf(Array.from({ length: 3000 }, () => Math.log(1 / (1 - rng()))))]) {
      const m = new TailModel(side, side.total * 2);
      let last = 1;
      for (let s = 0; s < 30; s += 0.25) {
        const p = m.p(s);
        expect(p).toBeLessThanOrEqual(last + 1e-12);
        last = p;
      }
      for (const p of [0.1, 0.01, 1e-3, 1e-5]) expect(m.p(m.limit(p)) / p).toBeGreaterThan(0.5);
    }
  });

  it('a resting side (all weight at 0) is not a wall: a step of one scale unit is unlikely, not impossible', () => {
    const side = sideOf(Array(500).fill(0));
    const m = new TailModel(side, 1000);
    expect(m.p(1)).toBeGreaterThan(0);
    expect(m.limit(1e-4)).toBeGreaterThan(0.5);
  });
});
