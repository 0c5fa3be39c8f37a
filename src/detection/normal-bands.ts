/**
 * Values an operator said are normal (POST /feedback), kept per channel as they were (a seasonal
 * channel's deseasonalised value), for its level and for its change: a value within NORMAL_BAND of
 * the channel's scale from one of them is "the same kind of value" and is neither flagged nor kept
 * out of the baseline. Kept as values, not standardised: the scale moves, the heater's 37.5 degC
 * does not. A band, not a reach: a heater's known 10-sd cycle must not hide a 6-sd fault on the
 * same side. Pure.
 */
export const NORMAL_BAND = 1;
/** Bands per channel and quantity. */
export const MAX_NORMAL_BANDS = 64;

export interface NormalBands {
  level: number[];
  change: number[];
}

/** The sorted union of two lists of values, duplicates dropped, at most MAX_NORMAL_BANDS (the first kept). */
export function mergeBands(kept: readonly number[], added: readonly number[]): number[] {
  const out = [...kept];
  for (const x of added) {
    if (!Number.isFinite(x) || out.length >= MAX_NORMAL_BANDS || out.includes(x)) continue;
    out.push(x);
  }
  return out.sort((a, b) => a - b);
}

/** Whether x lies within NORMAL_BAND * scale of a kept value (`bands` sorted). */
export function nearBand(bands: ArrayLike<number> | undefined, x: number, scale: number): boolean {
  if (bands === undefined || bands.length === 0 || x !== x) return false;
  const width = NORMAL_BAND * scale;
  const s = x;
  let lo = 0;
  let hi = bands.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bands[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return Math.abs(bands[lo] - s) <= width || (lo > 0 && Math.abs(bands[lo - 1] - s) <= width);
}
