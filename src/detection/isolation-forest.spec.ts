import { averagePathLength, fitIsolationForest, subsampleSize } from './isolation-forest';
import { createRng, standardNormal } from './seeded-random';

function gaussianRows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => standardNormal(rng)));
}

describe('isolation forest', () => {
  const rows = gaussianRows(600, 4, 1);

  it('c(n) follows the paper', () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(256)).toBeCloseTo(2 * (Math.log(255) + 0.5772156649) - (2 * 255) / 256, 10);
    expect(subsampleSize(2048)).toBe(256);
    expect(subsampleSize(300)).toBe(150);
  });

  it('is deterministic for a seed, whatever the state of Math.random, and restores Math.random', () => {
    const original = Math.random;
    const a = fitIsolationForest(rows, 4, { trees: 20, seed: 7 });
    for (let i = 0; i < 100; i++) Math.random();
    const b = fitIsolationForest(rows, 4, { trees: 20, seed: 7 });
    expect(Math.random).toBe(original);
    expect(Array.from(b.forest.split)).toEqual(Array.from(a.forest.split));
    expect(Array.from(b.oobScores)).toEqual(Array.from(a.oobScores));
    const probe = gaussianRows(50, 4, 9);
    expect(probe.map((p) => b.forest.score(p))).toEqual(probe.map((p) => a.forest.score(p)));
    const c = fitIsolationForest(rows, 4, { trees: 20, seed: 8 });
    expect(Array.from(c.forest.split)).not.toEqual(Array.from(a.forest.split));
  });

  it('restores Math.random even when fitting throws', () => {
    const original = Math.random;
    expect(() => fitIsolationForest([[1], [2]], 1, { trees: 1, seed: 1 })).toThrow(/at least 4/);
    expect(Math.random).toBe(original);
  });

  it('scores an obvious outlier above the bulk', () => {
    const { forest, oobScores } = fitIsolationForest(rows, 4, { trees: 100, seed: 3 });
    const sorted = Array.from(oobScores).sort((x, y) => x - y);
    const median = sorted[sorted.length >> 1];
    expect(forest.score([0, 0, 0, 0])).toBeLessThan(median);
    expect(forest.score([3, 3, 3, 3])).toBeGreaterThan(sorted[sorted.length - 1]);
    expect(forest.score([8, 0, 0, 0])).toBeGreaterThan(median + 0.05);
  });

  it('batch scoring equals single-row scoring, NaN imputed by the column mean', () => {
    const { forest } = fitIsolationForest(rows, 4, { trees: 30, seed: 5 });
    const probe = gaussianRows(203, 4, 11);
    probe[5][2] = NaN;
    const flat = Float64Array.from(probe.flat());
    const out = new Float64Array(probe.length);
    forest.scoreRows(flat, probe.length, out);
    const scratch = forest.newScratch();
    probe.forEach((p, i) => {
      expect(out[i]).toBeCloseTo(forest.score(p), 12);
      expect(forest.scoreOne(p, scratch)).toBeCloseTo(out[i], 12);
    });
    const imputed = [...probe[5]];
    imputed[2] = forest.impute[2];
    expect(out[5]).toBeCloseTo(forest.score(imputed), 12);
  });

  it('compiles the library trees faithfully (same path lengths as the library would walk)', () => {
    const { forest } = fitIsolationForest(rows, 4, { trees: 10, seed: 2 });
    // Every walk ends on a bottom slot holding a real leaf value: depth <= D plus c(size) >= 0.
    const probe = gaussianRows(100, 4, 4);
    for (const p of probe) {
      for (let t = 0; t < forest.trees; t++) {
        const h = forest.treePathLength(t, Float64Array.from(p));
        expect(h).toBeGreaterThan(0);
        expect(h).toBeLessThan(forest.depth + averagePathLength(forest.sampleSize));
      }
    }
  });
});
