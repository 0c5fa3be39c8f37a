/**
 * A row's time from its timestamp cell, as ms since the epoch (NaN when the cell is not a time):
 * ISO 8601 and its common space-separated form (`2024-03-01 12:00:00`, `2024-03-01T12:00:00.250Z`,
 * `...+02:00`; no zone means UTC), or a number of epoch seconds or milliseconds (told apart by
 * size). The common forms are read by hand: Date.parse on every row of a million-row file would
 * cost more than scoring it.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH = /^\d+(?:\.\d+)?$/;

/** Epoch seconds below this (year 5138) are seconds; larger numbers are milliseconds. */
const SECONDS_BELOW = 1e11;

export function parseTimestamp(cell: string): number {
  const s = cell.trim();
  if (s === '') return NaN;
  const m = ISO.exec(s);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac, zone] = m;
    let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec);
    if (frac) t += Math.round(Number(frac) * 1000);
    if (zone && zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
    }
    return t;
  }
  if (EPOCH.test(s)) {
    const x = Number(s);
    return x < SECONDS_BELOW ? x * 1000 : x;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? NaN : t;
}
