/**
 * Where a standardised value stops being ordinary: the family-wise Gaussian threshold for a row of k
 * channels, widened for skewed and heavy-tailed channels by a Cornish-Fisher expansion.
 */

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The two-sided per-channel threshold for a row of k channels tested at once: with alpha the
 * family-wise false-alarm rate per row (Bonferroni), T_k = Phi^-1(1 - alpha / (2k)), and never below
 * the reference's `zThreshold`. For alpha = 0.001: T_1 = 3.29, T_4 = 3.66.
 */
export function familyThreshold(k: number, alpha: number, zThreshold: number): number {
  if (k < 1) return zThreshold;
  return Math.max(zThreshold, normalQuantile(1 - alpha / (2 * k)));
}

/** The Cornish-Fisher quantile of a standardised distribution with skewness g and excess kurtosis e at the normal quantile z. */
export function cornishFisher(z: number, g: number, e: number): number {
  const z2 = z * z;
  return z + ((z2 - 1) * g) / 6 + ((z2 * z - 3 * z) * e) / 24 - ((2 * z2 * z - 5 * z) * g * g) / 36;
}

/**
 * Whether the expansion is non-decreasing in z over [lo, hi]. Its derivative is the quadratic
 * A z^2 + B z + C with A = e/8 - g^2/6, B = g/3, C = 1 - e/8 + 5 g^2/36, so checking the ends and
 * the vertex is exact.
 */
export function cornishFisherMonotone(g: number, e: number, lo: number, hi: number): boolean {
  const A = e / 8 - (g * g) / 6;
  const B = g / 3;
  const C = 1 - e / 8 + (5 * g * g) / 36;
  const deriv = (z: number) => (A * z + B) * z + C;
  if (deriv(lo) < 0 || deriv(hi) < 0) return false;
  if (A > 0) {
    const v = -B / (2 * A);
    if (v > lo && v < hi && deriv(v) < 0) return false;
  }
  return true;
}

/**
 * Shape parameters usable by the expansion: (g, e) scaled towards (0, 0) by the largest factor in
 * [0, 1] that keeps the expansion monotone on the whole range we use ([-zMax, zMax]). Outside that
 * domain the expansion folds back on itself (a larger z gives a smaller quantile) and means nothing;
 * scaling towards the Gaussian keeps the direction of the correction while staying meaningful.
 * Non-finite inputs count as Gaussian.
 */
export function clampShape(g: number, e: number, zMax: number): { skewness: number; kurtosis: number } {
  const g0 = Number.isFinite(g) ? g : 0;
  const e0 = Number.isFinite(e) ? e : 0;
  if (cornishFisherMonotone(g0, e0, -zMax, zMax)) return { skewness: g0, kurtosis: e0 };
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (cornishFisherMonotone(g0 * mid, e0 * mid, -zMax, zMax)) lo = mid;
    else hi = mid;
  }
  return { skewness: g0 * lo, kurtosis: e0 * lo };
}

export interface TailThresholds {
  /** Flag when z > upper. */
  upper: number;
  /** Flag when z < lower (negative). */
  lower: number;
}

/**
 * Upper and lower thresholds in z units for a Gaussian threshold t, widened (never narrowed) by the
 * Cornish-Fisher quantiles of the channel's shape: upper = max(t, CF(t)), lower = min(-t, CF(-t)).
 * So a right-skewed channel gets a longer allowance on the right, and a heavy-tailed one on both sides.
 */
export function tailThresholds(t: number, skewness: number, kurtosis: number): TailThresholds {
  const { skewness: g, kurtosis: e } = clampShape(skewness, kurtosis, Math.max(t, 1));
  return {
    upper: Math.max(t, cornishFisher(t, g, e)),
    lower: Math.min(-t, cornishFisher(-t, g, e)),
  };
}
