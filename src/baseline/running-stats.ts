/**
 * Running count, mean and central moment sums (M2, M3, M4) of one channel, updated one value at a
 * time (Welford; Pebay 2008 for M3/M4) and merged exactly (Chan et al. for M2, Pebay for M3/M4).
 *
 * `count` is a weight, not necessarily an integer: `decay()` (the half-life option) scales it.
 * Every formula here is the weighted form, so push/merge stay exact after a decay.
 *
 * The mean is kept as `shift + offset`, shift being the first value seen: for data like 1e9 + 1e-3
 * noise the deviations x - shift are then exact small numbers, and the moments are accumulated at
 * full precision instead of losing ~5 digits to the rounding of a 1e9-sized mean in every delta.
 *
 * Pure: no framework imports.
 */

/** The per-channel JSON shape: the reference app's `{count, mean, M2, std}` plus our M3, M4. */
export interface RunningStatsJson {
  count: number;
  mean: number;
  M2: number;
  std: number;
  M3?: number;
  M4?: number;
}

/** A stored statistic that cannot be loaded; the message names the field and what is wrong. */
export class InvalidStatsError extends Error {
  override readonly name = 'InvalidStatsError';
}

export class RunningStats {
  count = 0;
  /** The mean is `shift + offset` (see the class comment). */
  private shift = 0;
  private offset = 0;
  /** Sum of squared deviations from the mean. */
  m2 = 0;
  /** Sum of cubed deviations from the mean. */
  m3 = 0;
  /** Sum of fourth-power deviations from the mean. */
  m4 = 0;

  /** Statistics of `values` (non-finite values skipped, like `push`). */
  static of(values: Iterable<number>): RunningStats {
    const s = new RunningStats();
    for (const v of values) s.push(v);
    return s;
  }

  /**
   * Adds one observation. A missing or non-finite value is not an observation: it is skipped and
   * `false` returned, so one bad cell can never poison the moments with NaN/Infinity.
   */
  push(x: number): boolean {
    if (!Number.isFinite(x)) return false;
    const n1 = this.count;
    if (n1 === 0) {
      this.shift = x;
      this.offset = 0;
    }
    const n = n1 + 1;
    const delta = x - this.shift - this.offset;
    const deltaN = delta / n;
    const deltaN2 = deltaN * deltaN;
    const term1 = delta * deltaN * n1;
    this.offset += deltaN;
    // Order matters: M4 uses the old M3 and M2, M3 the old M2.
    this.m4 += term1 * deltaN2 * (n * n - 3 * n + 3) + 6 * deltaN2 * this.m2 - 4 * deltaN * this.m3;
    this.m3 += term1 * deltaN * (n - 2) - 3 * deltaN * this.m2;
    this.m2 += term1;
    this.count = n;
    return true;
  }

  /** Folds `other` into this one, exactly as if its observations had been pushed here. Returns this. */
  merge(other: RunningStats): this {
    const nb = other.count;
    if (nb === 0) return this;
    const na = this.count;
    if (na === 0) return this.assign(other);
    const n = na + nb;
    // Shifts first: for nearby shifts their difference is exact (Sterbenz).
    const delta = other.shift - this.shift + (other.offset - this.offset);
    const deltaN = delta / n;
    const deltaN2 = deltaN * deltaN;
    const nanb = na * nb;
    const m2 = this.m2 + other.m2 + delta * deltaN * nanb;
    const m3 =
      this.m3 +
      other.m3 +
      delta * deltaN2 * nanb * (na - nb) +
      3 * deltaN * (na * other.m2 - nb * this.m2);
    const m4 =
      this.m4 +
      other.m4 +
      delta * deltaN2 * deltaN * nanb * (na * na - nanb + nb * nb) +
      6 * deltaN2 * (na * na * other.m2 + nb * nb * this.m2) +
      4 * deltaN * (na * other.m3 - nb * this.m3);
    this.offset += deltaN * nb;
    this.m2 = m2;
    this.m3 = m3;
    this.m4 = m4;
    this.count = n;
    return this;
  }

  /**
   * Down-weights everything seen so far by `factor` in (0, 1]: count and the moment sums scale,
   * the mean does not, so variance, skewness and kurtosis are unchanged until new data arrives and
   * then weighs in more. Used for exponential forgetting (BASELINE_HALF_LIFE). Returns this.
   */
  decay(factor: number): this {
    if (!(factor > 0 && factor <= 1)) throw new RangeError(`decay factor must be in (0, 1], got ${factor}`);
    this.count *= factor;
    this.m2 *= factor;
    this.m3 *= factor;
    this.m4 *= factor;
    return this;
  }

  /**
   * Puts the mean in the form `from(toJSON())` gives (shift = mean, offset = 0), so that a copy held
   * in memory and one reloaded from JSON continue bit-identically. The long-lived baseline does this
   * after each fold; a batch's own statistics keep the full-precision split while they accumulate.
   */
  normalize(): this {
    this.shift = this.mean;
    this.offset = 0;
    return this;
  }

  get mean(): number {
    return this.shift + this.offset;
  }

  /**
   * Caps the weight at `max` observations (count becomes exactly `max` when it was larger), keeping
   * mean, variance, skewness and kurtosis. Returns this.
   */
  capWeight(max: number): this {
    if (!(max > 0)) throw new RangeError(`capWeight needs a maximum > 0, got ${max}`);
    if (this.count > max) {
      this.decay(max / this.count);
      this.count = max;
    }
    return this;
  }

  /** The same distribution moved to another mean: count and central moments unchanged. */
  withMean(mean: number): RunningStats {
    const s = this.clone();
    s.shift = mean;
    s.offset = 0;
    return s;
  }

  /**
   * The same count and mean with another variance, Gaussian in shape (skewness 0, excess kurtosis
   * 0): for a channel whose values start being measured another way (deseasonalised or not).
   */
  withVariance(variance: number): RunningStats {
    const s = this.clone();
    s.m2 = Math.max(0, variance) * s.count;
    s.m3 = 0;
    s.m4 = s.count > 0 ? (3 * s.m2 * s.m2) / s.count : 0;
    return s;
  }

  /** Population variance M2 / count, as the reference app's `std` is sqrt(M2 / count). 0 when empty. */
  get variance(): number {
    return this.count > 0 ? this.m2 / this.count : 0;
  }

  get std(): number {
    return Math.sqrt(this.variance);
  }

  /** Moment skewness g1 = sqrt(n) M3 / M2^1.5; 0 when there is no spread. */
  get skewness(): number {
    if (!(this.count > 0) || !(this.m2 > 0)) return 0;
    return (Math.sqrt(this.count) * this.m3) / Math.pow(this.m2, 1.5);
  }

  /** Excess kurtosis g2 = n M4 / M2^2 - 3 (0 for a Gaussian); 0 when there is no spread. */
  get kurtosis(): number {
    if (!(this.count > 0) || !(this.m2 > 0)) return 0;
    return (this.count * this.m4) / (this.m2 * this.m2) - 3;
  }

  clone(): RunningStats {
    return RunningStats.revive(this);
  }

  /** False when a moment overflowed (e.g. values near 1e78 make M4 infinite): such stats cannot be stored. */
  isFinite(): boolean {
    return [this.count, this.mean, this.m2, this.m3, this.m4].every(Number.isFinite);
  }

  toJSON(): Required<RunningStatsJson> {
    return { count: this.count, mean: this.mean, M2: this.m2, std: this.std, M3: this.m3, M4: this.m4 };
  }

  /**
   * Rebuilds statistics that crossed a thread boundary (a structured clone keeps the fields but not
   * the class), bit for bit: unlike `from(toJSON())`, the mean keeps its full-precision split.
   */
  static revive(clone: Pick<RunningStats, 'count' | 'm2' | 'm3' | 'm4'>): RunningStats {
    // A structured clone has the same fields, private ones included, without the class.
    return new RunningStats().assign(clone as RunningStats);
  }

  /** Takes every field of `o`: the same statistics, bit for bit. */
  private assign(o: RunningStats): this {
    this.count = o.count;
    this.shift = o.shift;
    this.offset = o.offset;
    this.m2 = o.m2;
    this.m3 = o.m3;
    this.m4 = o.m4;
    return this;
  }

  /**
   * Loads the JSON shape, validated. A reference-written entry has no M3/M4: the channel is then
   * assumed Gaussian (M3 = 0, M4 = 3 M2^2 / count, i.e. skewness 0 and excess kurtosis 0), which is
   * what detection would assume without them anyway. `std` is recomputed from M2/count, not trusted.
   * `where` names the entry in error messages (e.g. `baseline.json "temperature"`).
   */
  static from(json: unknown, where = 'stats'): RunningStats {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new InvalidStatsError(`${where} must be an object {count, mean, M2, std}, got ${kind(json)}`);
    }
    const o = json as Record<string, unknown>;
    const num = (field: string, required: boolean, check: (v: number) => boolean, rule: string) => {
      const v = o[field];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
        throw new InvalidStatsError(`${where}.${field} must be ${rule}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
      }
      return v;
    };
    const s = new RunningStats();
    s.count = num('count', true, (v) => v >= 0, 'a finite number >= 0')!;
    s.shift = num('mean', true, () => true, 'a finite number')!;
    s.m2 = num('M2', true, (v) => v >= 0, 'a finite number >= 0')!;
    const m3 = num('M3', false, () => true, 'a finite number');
    const m4 = num('M4', false, (v) => v >= 0, 'a finite number >= 0');
    if (o.std !== undefined && (typeof o.std !== 'number' || !(o.std >= 0))) {
      // std is derived, so it is not used, but a wrong type still says the file is not what we think.
      throw new InvalidStatsError(`${where}.std must be a number >= 0, got ${JSON.stringify(o.std)}`);
    }
    if (s.count === 0 && (s.m2 !== 0 || (m3 ?? 0) !== 0 || (m4 ?? 0) !== 0)) {
      throw new InvalidStatsError(`${where}: count is 0 but the moment sums are not`);
    }
    s.m3 = m3 ?? 0;
    s.m4 = m4 ?? (s.count > 0 ? (3 * s.m2 * s.m2) / s.count : 0);
    return s;
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? JSON.stringify(v) : typeof v;
}
