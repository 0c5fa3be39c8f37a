/**
 * Periods an operator has marked (src/feedback): rows whose timestamp falls in one are never
 * learned, and in an `ignore` window (maintenance) they are not flagged either. Pure.
 */
export type ExclusionVerdict = 'anomaly' | 'ignore';

export interface ExclusionWindow {
  /** The feedback record that made it. */
  id: string;
  /** ms since the epoch, both included. */
  from: number;
  to: number;
  verdict: ExclusionVerdict;
}

/** More windows than this are refused: a bound on memory and on the lookup per row. */
export const MAX_EXCLUSION_WINDOWS = 10_000;

export class ExclusionWindows {
  /** Sorted by `from`. */
  private readonly windows: ExclusionWindow[];
  /** Running maximum of `to` over windows[0..i]: lets `at` stop early on overlapping windows. */
  private readonly reach: Float64Array;

  constructor(windows: readonly ExclusionWindow[] = []) {
    this.windows = [...windows].sort((a, b) => a.from - b.from || a.id.localeCompare(b.id));
    this.reach = new Float64Array(this.windows.length);
    let reach = -Infinity;
    this.windows.forEach((w, i) => (this.reach[i] = reach = Math.max(reach, w.to)));
  }

  get size(): number {
    return this.windows.length;
  }

  list(): readonly ExclusionWindow[] {
    return this.windows;
  }

  /** A copy with `w` added (replacing one of the same id). */
  with(w: ExclusionWindow): ExclusionWindows {
    const others = this.windows.filter((x) => x.id !== w.id);
    if (others.length >= MAX_EXCLUSION_WINDOWS) throw new RangeError(`more than ${MAX_EXCLUSION_WINDOWS} exclusion windows`);
    return new ExclusionWindows([...others, w]);
  }

  /**
   * The window holding `t` (an `ignore` one first, when several do); undefined for none or an
   * unknown time. O(log n) plus the windows that overlap `t`.
   */
  at(t: number): ExclusionWindow | undefined {
    if (t !== t || this.windows.length === 0) return undefined;
    // Last window starting at or before t.
    let lo = 0;
    let hi = this.windows.length - 1;
    if (this.windows[0].from > t) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.windows[mid].from <= t) lo = mid;
      else hi = mid - 1;
    }
    let found: ExclusionWindow | undefined;
    for (let i = lo; i >= 0 && this.reach[i] >= t; i--) {
      const w = this.windows[i];
      if (w.to >= t) {
        if (w.verdict === 'ignore') return w;
        found ??= w;
      }
    }
    return found;
  }
}
