import { clampShape, cornishFisher, cornishFisherMonotone, familyThreshold, normalQuantile, tailThresholds } from './tail-thresholds';
import { createRng, standardNormal } from './seeded-random';

describe('tail thresholds', () => {
  it('normalQuantile matches known values', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalQuantile(1 - 0.001 / 8)).toBeCloseTo(3.662, 3);
  });

  it('family-wise thresholds grow with k and never go below zThreshold', () => {
    expect(familyThreshold(1, 0.001, 3)).toBeCloseTo(3.29, 2);
    expect(familyThreshold(4, 0.001, 3)).toBeCloseTo(3.66, 2);
    expect(familyThreshold(4, 0.2, 3)).toBe(3);
  });

  it('Gaussian shape leaves thresholds unchanged; negative kurtosis never narrows them', () => {
    expect(tailThresholds(3.66, 0, 0)).toEqual({ upper: 3.66, lower: -3.66 });
    const t = tailThresholds(3.66, 0, -1.2);
    expect(t).toEqual({ upper: 3.66, lower: -3.66 });
  });

  it('clamps shapes outside the monotone domain toward the Gaussian', () => {
    expect(cornishFisherMonotone(0, 47, -3.66, 3.66)).toBe(false);
    const c = clampShape(0, 47, 3.66);
    expect(c.kurtosis).toBeLessThanOrEqual(8);
    expect(c.kurtosis).toBeGreaterThan(7.5);
    expect(cornishFisherMonotone(c.skewness, c.kurtosis, -3.66, 3.66)).toBe(true);
    expect(clampShape(NaN, Infinity, 3)).toEqual({ skewness: 0, kurtosis: 0 });
  });

  it('widens a lognormal sample to cover its real upper tail, and the lower side less', () => {
    const rng = createRng(4);
    const xs = Array.from({ length: 200000 }, () => Math.exp(0.35 * standardNormal(rng)));
    const n = xs.length;
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const m = (k: number) => xs.reduce((a, b) => a + (b - mean) ** k, 0) / n;
    const std = Math.sqrt(m(2));
    const skew = m(3) / std ** 3;
    const kurt = m(4) / std ** 4 - 3;
    const t = familyThreshold(4, 0.001, 3);
    const { upper, lower } = tailThresholds(t, skew, kurt);
    expect(upper).toBeGreaterThan(t + 2);
    expect(lower).toBeGreaterThanOrEqual(-t - 1e-9);
    const beyond = xs.filter((x) => (x - mean) / std > upper).length / n;
    const beyondGaussian = xs.filter((x) => (x - mean) / std > t).length / n;
    expect(beyondGaussian).toBeGreaterThan(0.003); // the Gaussian rule would flood this channel
    expect(beyond).toBeLessThan(0.001 / 8 * 2);
    expect(cornishFisher(t, skew, kurt)).toBeCloseTo(upper, 12);
  });
});
