import { familyThreshold, normalQuantile, normalTail } from './tail-thresholds';

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

  it('normalTail is the upper tail of the standard normal', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 7);
    expect(normalTail(1.959964)).toBeCloseTo(0.025, 7);
    expect(normalTail(-1.959964)).toBeCloseTo(0.975, 7);
    expect(normalTail(3.090232) / 0.001).toBeCloseTo(1, 5);
    expect(normalTail(8) / 6.22096e-16).toBeCloseTo(1, 4);
  });
});
