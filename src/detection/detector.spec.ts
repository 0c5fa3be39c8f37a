import { BaselineSnapshot, ChannelBaseline, DetectionSettings, RowScore } from './detection.types';
import { createDetector } from './detector';
import { TwoSidedSketch } from './tail-sketch';
import { ForestModelCache } from './forest-model';
import { JointModelCache } from './multivariate-test';
import { ReferenceWindow } from './reference-window';
import { createRng, standardNormal } from './seeded-random';

const SETTINGS: DetectionSettings = { zThreshold: 3, minCount: 30, trees: 50, seed: 42 };
const CH = ['a', 'b', 'c', 'd'];

function snapshot(stats: Record<string, Partial<ChannelBaseline>>, window = new ReferenceWindow(CH)): BaselineSnapshot {
  return {
    lookup: (ch) => (stats[ch] ? { count: 1000, mean: 0, std: 1, skewness: 0, kurtosis: 0, ...stats[ch] } : undefined),
    window,
  };
}
const gaussian = () => snapshot(Object.fromEntries(CH.map((c) => [c, {}])));

function copy(s: RowScore): RowScore {
  return { ...s, z: s.z.slice(), zFlag: s.zFlag.slice(), channelAnomalous: s.channelAnomalous.slice() };
}

function filledWindow(seed: number, rows = 1024): ReferenceWindow {
  const rng = createRng(seed);
  const w = new ReferenceWindow(CH);
  for (let i = 0; i < rows; i++) w.add(CH.map(() => standardNormal(rng)));
  return w;
}

describe('detector: z-scores and flags', () => {
  it('computes z against the baseline, flags |z| > zThreshold in zFlag', () => {
    const det = createDetector(snapshot({ a: { mean: 10, std: 2 }, b: {}, c: {}, d: {} }), CH, SETTINGS, { cache: new ForestModelCache() });
    const out = det.newRowScore();
    det.score(Float64Array.from([17, 0.5, -3.5, 0]), undefined, out);
    expect(out.z[0]).toBeCloseTo(3.5);
    expect(Array.from(out.zFlag)).toEqual([1, 0, 1, 0]);
    // 3.5 is beyond the reference's 3 but not the family-wise T_4 = 3.66: not a row anomaly.
    expect(out.anomaly).toBe(false);
    expect(out.scorable).toBe(true);
  });

  it('a constant channel (std 0) gives a finite z: 0 for the constant, large for a change', () => {
    const det = createDetector(snapshot({ a: { mean: 5, std: 0 }, b: {}, c: {}, d: {} }), CH, SETTINGS, { cache: new ForestModelCache() });
    const out = det.newRowScore();
    det.score(Float64Array.from([5, 0, 0, 0]), undefined, out);
    expect(out.z[0]).toBe(0);
    expect(out.anomaly).toBe(false);
    det.score(Float64Array.from([6, 0, 0, 0]), undefined, out);
    expect(Number.isFinite(out.z[0])).toBe(true);
    expect(out.z[0]).toBeGreaterThan(1000);
    expect(out.anomaly).toBe(true);
    expect(out.reasons).toMatch(/^a z=\d+\.\d$/);
  });

  it('missing, NaN and infinite values are not scored, not counted, never NaN in flags', () => {
    const det = createDetector(gaussian(), CH, SETTINGS, { cache: new ForestModelCache() });
    const out = det.newRowScore();
    det.score(Float64Array.from([NaN, Infinity, -Infinity, 9]), undefined, out);
    expect(out.z[0]).toBeNaN();
    expect(out.z[1]).toBeNaN();
    expect(Array.from(out.zFlag)).toEqual([-1, -1, -1, 1]);
    expect(out.anomaly).toBe(true);
    expect(out.reasons).toBe('d z=9.0');
    det.score(Float64Array.from([NaN, NaN, NaN, NaN]), undefined, out);
    expect(out.scorable).toBe(false);
    expect(out.anomaly).toBe(false);
    expect(out.reasons).toMatch(/^unscorable/);
    expect(Number.isFinite(out.anomalyScore)).toBe(true);
  });

  it('an immature channel writes z but no flag; no sample, no cold-start test', () => {
    const det = createDetector(snapshot({ a: { count: 10 }, b: {}, c: {}, d: {} }), CH, SETTINGS, { cache: new ForestModelCache() });
    const out = det.newRowScore();
    det.score(Float64Array.from([50, 0, 0, 0]), undefined, out);
    expect(out.z[0]).toBe(50);
    expect(out.zFlag[0]).toBe(-1);
    expect(out.anomaly).toBe(false);
  });

  it('cold start: robust in-batch statistics flag a far value when the baseline is empty', () => {
    const rng = createRng(3);
    const sample = Array.from({ length: 100 }, () => ({ values: CH.map(() => 20 + standardNormal(rng)) }));
    sample[7].values[2] = 35;
    const det = createDetector(snapshot({}), CH, SETTINGS, { cache: new ForestModelCache(), coldStartSample: sample });
    const out = det.newRowScore();
    let flagged = 0;
    sample.forEach((row, i) => {
      det.score(Float64Array.from(row.values), undefined, out);
      if (i === 7) expect(out.reasons).toMatch(/^c robust z=1\d\.\d$/);
      flagged += +out.anomaly;
      expect(out.z[0]).toBeNaN();
      expect(out.zFlag[0]).toBe(-1);
    });
    expect(flagged).toBe(1);
  });

  it('the row rule keeps false flags well under 0.5% of Gaussian rows and flags a 6-sigma spike', () => {
    const det = createDetector(gaussian(), CH, SETTINGS, { cache: new ForestModelCache() });
    const rng = createRng(11);
    const out = det.newRowScore();
    const rows = 100_000;
    const values = new Float64Array(rows * 4);
    for (let i = 0; i < values.length; i++) values[i] = standardNormal(rng);
    let flagged = 0;
    let zFlagged = 0;
    for (let r = 0; r < rows; r++) {
      det.score(values.subarray(r * 4, r * 4 + 4), undefined, out);
      flagged += +out.anomaly;
      zFlagged += +out.zFlag.some((f) => f === 1);
    }
    expect(flagged / rows).toBeLessThan(0.002);
    expect(zFlagged / rows).toBeGreaterThan(0.009); // the reference's OR of |z| > 3 would flag ~1.1 %
    det.score(Float64Array.from([0.3, -6, 0.1, 0.2]), undefined, out);
    expect(out.anomaly).toBe(true);
    expect(Array.from(out.channelAnomalous)).toEqual([0, 1, 0, 0]);
    expect(out.reasons).toBe('b z=-6.0');
    expect(out.anomalyScore).toBeGreaterThan(0.5);
    expect(out.anomalyScore).toBeLessThanOrEqual(1);
  });

  it('reads each channel against the tails it has shown: a heavy-tailed channel is not flagged where a Gaussian one is', () => {
    const rng = createRng(6);
    const tails = (draw: () => number) => {
      const t = new TwoSidedSketch();
      for (let i = 0; i < 20000; i++) t.add(draw());
      return t;
    };
    // Laplace with unit std: far more weight beyond 4 std than a Gaussian.
    const laplace = () => (rng() < 0.5 ? -1 : 1) * Math.log(1 / (1 - rng())) / Math.SQRT2;
    const det = createDetector(
      snapshot({ a: { count: 20000, tails: tails(laplace) }, b: { count: 20000, tails: tails(() => standardNormal(rng)) }, c: {}, d: {} }),
      CH,
      SETTINGS,
      { cache: new ForestModelCache() },
    );
    const out = det.newRowScore();
    det.score(Float64Array.from([5, 0, 0, 0]), undefined, out);
    expect(out.anomaly).toBe(false);
    det.score(Float64Array.from([0, 5, 0, 0]), undefined, out);
    expect(out.anomaly).toBe(true);
    expect(out.reasons).toBe('b z=5.0');
    det.score(Float64Array.from([12, 0, 0, 0]), undefined, out);
    expect(out.anomaly).toBe(true);
  });
});

describe('detector: isolation and determinism', () => {
  it('fits once per window generation, reports if_score in the decision_function sign', () => {
    const cache = new ForestModelCache();
    const window = filledWindow(5);
    const snap = snapshot(Object.fromEntries(CH.map((c) => [c, {}])), window);
    const det = createDetector(snap, CH, SETTINGS, { cache });
    expect(det.model).toBeDefined();
    const again = createDetector(snap, CH, SETTINGS, { cache });
    expect(again.model).toBe(det.model);
    expect(cache.size).toBe(1);
    const out = det.newRowScore();
    det.score(Float64Array.from([0, 0, 0, 0]), undefined, out);
    expect(out.ifScore).toBeGreaterThan(0);
    expect(out.ifLabel).toBe(1);
    det.score(Float64Array.from([3.2, -3.2, 3.2, -3.2]), undefined, out);
    expect(out.ifScore).toBeLessThan(0);
    expect([out.ifLabel, out.ifFlag]).toEqual([-1, true]);
    // Corroborated by channels beyond 3 sigma: the row is anomalous and says why.
    expect(out.anomaly).toBe(true);
    expect(out.reasons).toMatch(/isolation$/);
  });

  it('no forest when the window lacks a channel; if_score NaN (written empty)', () => {
    const w = new ReferenceWindow(['a', 'x']);
    const det = createDetector(snapshot({ a: {} }, w), ['a'], SETTINGS, { cache: new ForestModelCache() });
    expect(det.model).toBeUndefined();
    const out = det.newRowScore();
    det.score(Float64Array.from([0]), undefined, out);
    expect(out.ifScore).toBeNaN();
    expect(out.ifLabel).toBe(1);
  });

  it('is deterministic: same snapshot and settings give identical scores, per row or in a batch', () => {
    const rng = createRng(21);
    const rows = 300;
    const values = new Float64Array(rows * 4);
    for (let i = 0; i < values.length; i++) values[i] = standardNormal(rng) * (i % 97 === 0 ? 5 : 1);
    const run = (batch: boolean) => {
      const det = createDetector(snapshot(Object.fromEntries(CH.map((c) => [c, {}])), filledWindow(8)), CH, SETTINGS, {
        cache: new ForestModelCache(),
      });
      const results: RowScore[] = [];
      if (batch) det.scoreBatch(values, rows, undefined, (_, s) => results.push(copy(s)));
      else {
        const out = det.newRowScore();
        for (let r = 0; r < rows; r++) {
          det.score(values.subarray(r * 4, r * 4 + 4), undefined, out);
          results.push(copy(out));
        }
      }
      return results;
    };
    const a = run(false);
    Math.random();
    const b = run(false);
    const c = run(true);
    expect(b).toEqual(a);
    expect(c.map((s) => s.ifScore)).toEqual(a.map((s) => expect.closeTo(s.ifScore, 12)));
    expect(c.map((s) => s.anomaly)).toEqual(a.map((s) => s.anomaly));
    expect(a.some((s) => s.anomaly)).toBe(true);
  });

  it('uses per-entity baselines when an entity is given', () => {
    const snap: BaselineSnapshot = {
      lookup: (ch, entity) => ({ count: 1000, mean: entity === 'hot' ? 80 : 20, std: 1, skewness: 0, kurtosis: 0 }),
      window: new ReferenceWindow(['t']),
    };
    const det = createDetector(snap, ['t'], SETTINGS, { cache: new ForestModelCache() });
    const out = det.newRowScore();
    det.score(Float64Array.from([80]), 'hot', out);
    expect(out.anomaly).toBe(false);
    det.score(Float64Array.from([80]), 'cold', out);
    expect(out.anomaly).toBe(true);
  });
});

describe('detector: joint test', () => {
  /** a and b correlated 0.9, c and d independent: what the joint test is for. */
  function correlatedWindow(seed: number): ReferenceWindow {
    const rng = createRng(seed);
    const w = new ReferenceWindow(CH);
    for (let i = 0; i < 2048; i++) {
      const x = standardNormal(rng);
      w.add([x, 0.9 * x + 0.436 * standardNormal(rng), standardNormal(rng), standardNormal(rng)]);
    }
    return w;
  }
  const stats = Object.fromEntries(CH.map((c) => [c, {}]));

  it('flags a row whose channels are each ordinary but break their correlation, and says why', () => {
    const det = createDetector(snapshot(stats, correlatedWindow(3)), CH, SETTINGS, { cache: new ForestModelCache(), jointCache: new JointModelCache() });
    expect(det.jointModel).toBeDefined();
    const out = det.newRowScore();
    det.score(Float64Array.from([2.2, -1.5, 0, 0]), undefined, out);
    expect(Array.from(out.zFlag)).toEqual([0, 0, 0, 0]);
    expect(out.anomaly).toBe(true);
    expect(out.reasons).toMatch(/^a joint residual z=\d+\.\d; b joint residual z=-\d+\.\d$/);
    expect(Array.from(out.channelAnomalous)).toEqual([1, 1, 0, 0]);
    expect(out.anomalyScore).toBeGreaterThanOrEqual(0.5);
    expect(out.anomalyScore).toBeLessThan(1);

    // Consistent with the correlation: not flagged, score below 0.5.
    det.score(Float64Array.from([2.2, 2, 0, 0]), undefined, out);
    expect(out.anomaly).toBe(false);
    expect(out.anomalyScore).toBeLessThan(0.5);
    // A missing value the test reads: not joint-tested, nothing NaN.
    det.score(Float64Array.from([2.2, NaN, 0, 0]), undefined, out);
    expect(out.anomaly).toBe(false);
    expect(Number.isFinite(out.anomalyScore)).toBe(true);
  });

  it('a channel beyond the row rule and breaking the correlation: both reasons, z first', () => {
    const det = createDetector(snapshot(stats, correlatedWindow(3)), CH, SETTINGS, { cache: new ForestModelCache(), jointCache: new JointModelCache() });
    const out = det.newRowScore();
    det.score(Float64Array.from([6, 0, 0, 0]), undefined, out);
    expect(out.reasons).toMatch(/^a z=6\.0; a joint residual z=\d+\.\d; b joint residual z=-\d+\.\d/);
  });

  it('is off with joint: false, and scoreBatch agrees with score', () => {
    const window = correlatedWindow(3);
    const off = createDetector(snapshot(stats, window), CH, SETTINGS, { cache: new ForestModelCache(), joint: false });
    expect(off.jointModel).toBeUndefined();
    const o = off.newRowScore();
    off.score(Float64Array.from([2.2, -1.5, 0, 0]), undefined, o);
    expect(o.anomaly).toBe(false);

    const det = createDetector(snapshot(stats, window), CH, SETTINGS, { cache: new ForestModelCache(), jointCache: new JointModelCache() });
    const rows = Float64Array.from([2.2, -1.5, 0, 0, 0.1, 0.2, 0, 0, -2, 1.5, 0.3, 0]);
    const batch: RowScore[] = [];
    det.scoreBatch(rows, 3, undefined, (_, s) => batch.push(copy(s)));
    const one = det.newRowScore();
    for (let r = 0; r < 3; r++) {
      det.score(rows.subarray(r * 4, r * 4 + 4), undefined, one);
      expect(copy(one)).toEqual(batch[r]);
    }
    expect(batch.map((s) => s.anomaly)).toEqual([true, false, true]);
  });
});
