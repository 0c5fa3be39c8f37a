/**
 * A channel's daily and weekly profile, learned from the timestamps of its rows, and the test of
 * whether the channel follows one.
 *
 * Why: most real metrics follow the clock (traffic, rides, tweets, the CPU of a service used in
 * office hours). Judged against its overall spread, such a channel hides an anomaly that stays
 * inside the daily range (a holiday, a marathon, a quiet Monday morning) and floods or goes blind
 * depending on the phase its first batches saw. A seasonal channel is judged on its deseasonalised
 * value y = M + r(t) (x - M - d(t)): M the profile's overall mean, d(t) the deviation of the row's
 * slot (local time) from it, r(t) = pooled within-slot std / the slot's own std, so that a quiet
 * night and a busy rush hour are judged each against its own spread. Everything else (level and
 * change tests, learned tails, episodes) then works on y as it does on a plain channel.
 *
 * - Slots: 24 hour-of-day slots and 168 hour-of-week slots (Monday 00:00 first), each kept twice,
 *   for even and for odd days (weeks): weighted moments (weight, mean, M2), mergeable exactly
 *   (Chan et al.) and decayable.
 * - Detection: a period is used when the profile learned on even cycles predicts the odd ones
 *   (correlation of the two slot profiles >= MIN_CONSISTENCY) and it explains a real share of the
 *   variance (1 - within-slot variance / total >= MIN_EXPLAINED). The split halves are what tell a
 *   clock from a random walk: a walk's profile over a few days looks as strong as a real one, but
 *   its even-day and odd-day profiles do not agree. Weekly wins over daily only when its within-slot
 *   variance is below WEEKLY_GAIN of the daily one.
 * - d and r are the slot's own, shrunk towards 0 and 1 while a slot has little weight. They are
 *   not interpolated between slots: the slot's spread is measured around the slot's mean, and a
 *   curve drawn between slot means mispredicts a step inside a slot (a square wave) by more than
 *   that spread, which a low-noise channel would flag on every cycle (measured: src/detection/README.md).
 */
import { LocalClock } from './local-clock';

export type SeasonPeriod = 'daily' | 'weekly';
export type SeasonalityMode = 'auto' | 'off' | SeasonPeriod;

const HOUR_MS = 3_600_000;
/** 1970-01-01 was a Thursday: days since the epoch + 3 is 0 on Mondays. */
const MONDAY_OFFSET = 3;
const DAILY_SLOTS = 24;
const WEEKLY_SLOTS = 168;
/** Layout: daily even, daily odd, weekly even, weekly odd. */
const DAILY_BASE = 0;
const WEEKLY_BASE = 2 * DAILY_SLOTS;
const SLOTS = 2 * DAILY_SLOTS + 2 * WEEKLY_SLOTS;

/** Correlation between the even-cycle and odd-cycle profiles from which a period counts. */
export const MIN_CONSISTENCY = 0.6;
/** Share of the variance the profile must explain. */
export const MIN_EXPLAINED = 0.25;
/** A seasonal channel stays seasonal down to these (hysteresis: no flapping at the edge). */
const KEEP_CONSISTENCY = 0.4;
const KEEP_EXPLAINED = 0.15;
/** Weekly is used when its within-slot variance is below this share of the daily one. */
export const WEEKLY_GAIN = 0.8;
/** Share of slots that must have been seen in both even and odd cycles. */
export const MIN_COVERAGE = 0.75;
/** A slot's weight at which its deviation counts half (shrinkage towards the overall mean). */
const SHRINK_WEIGHT = 2;
/** Weight of the pooled within-slot variance in a slot's own (shrinkage of the spread). */
const SPREAD_PRIOR_WEIGHT = 5;
/** Bounds of r: no slot is judged more than ten times tighter or looser than the pooled spread. */
const MIN_RATIO = 0.1;
const MAX_RATIO = 10;
/** Half-lives of the profile in time: it follows a change of shape in a few weeks. */
export const DAILY_HALF_LIFE_MS = 14 * 24 * HOUR_MS;
export const WEEKLY_HALF_LIFE_MS = 8 * 7 * 24 * HOUR_MS;

export interface SeasonProfileJson {
  /** The IANA time zone the slots were learned in. */
  timezone: string;
  /** Slot arrays (daily even, daily odd, weekly even, weekly odd), `SLOTS` long each. */
  w: number[];
  mean: number[];
  m2: number[];
}

/** What detection reads of a seasonal channel: its period and, per slot, d and r. */
export interface SeasonData {
  period: SeasonPeriod;
  timezone: string;
  /** M: the profile's overall mean. */
  center: number;
  /** Per slot of the period: d, the deviation of the slot's mean from M, shrunk. */
  deviation: ArrayLike<number>;
  /** Per slot: r, the pooled within-slot std over the slot's own (shrunk). */
  ratio: ArrayLike<number>;
}

export interface Seasonality {
  period: SeasonPeriod | null;
  /** Per period: correlation of the split halves, share explained, slots covered (NaN: not enough data). */
  daily: PeriodFit;
  weekly: PeriodFit;
}

export interface PeriodFit {
  consistency: number;
  explained: number;
  coverage: number;
  /** Pooled within-slot variance. */
  within: number;
  /** Variance over all slots. */
  total: number;
}

export class SeasonProfile {
  readonly w = new Float64Array(SLOTS);
  readonly mean = new Float64Array(SLOTS);
  readonly m2 = new Float64Array(SLOTS);

  constructor(readonly timezone = 'UTC') {}

  /** `local`: ms of the local clock (LocalClock.local); `x` with weight `weight`. */
  add(local: number, x: number, weight = 1): void {
    if (!(weight > 0) || local !== local || x !== x) return;
    const hour = Math.floor(local / HOUR_MS);
    const day = Math.floor(hour / 24);
    const hourOfDay = hour - day * 24;
    const week = Math.floor((day + MONDAY_OFFSET) / 7);
    const hourOfWeek = (day + MONDAY_OFFSET - week * 7) * 24 + hourOfDay;
    this.push(DAILY_BASE + (day & 1) * DAILY_SLOTS + hourOfDay, x, weight);
    this.push(WEEKLY_BASE + (week & 1) * WEEKLY_SLOTS + hourOfWeek, x, weight);
  }

  merge(other: SeasonProfile): this {
    for (let i = 0; i < SLOTS; i++) {
      const wb = other.w[i];
      if (!(wb > 0)) continue;
      const wa = this.w[i];
      const w = wa + wb;
      const delta = other.mean[i] - this.mean[i];
      this.mean[i] += (delta * wb) / w;
      this.m2[i] += other.m2[i] + (delta * delta * wa * wb) / w;
      this.w[i] = w;
    }
    return this;
  }

  /** Forgetting in time: `elapsedMs` since the profile was last folded. */
  age(elapsedMs: number): this {
    if (!(elapsedMs > 0)) return this;
    const daily = Math.pow(0.5, elapsedMs / DAILY_HALF_LIFE_MS);
    const weekly = Math.pow(0.5, elapsedMs / WEEKLY_HALF_LIFE_MS);
    for (let i = 0; i < SLOTS; i++) {
      const f = i < WEEKLY_BASE ? daily : weekly;
      this.w[i] *= f;
      this.m2[i] *= f;
    }
    return this;
  }

  /** The channel's level moved by `delta` (a re-learned level): the profile's shape stays. */
  shift(delta: number): this {
    for (let i = 0; i < SLOTS; i++) if (this.w[i] > 0) this.mean[i] += delta;
    return this;
  }

  get weight(): number {
    let t = 0;
    for (let i = 0; i < DAILY_BASE + 2 * DAILY_SLOTS; i++) t += this.w[i];
    return t;
  }

  clone(): SeasonProfile {
    return new SeasonProfile(this.timezone).merge(this);
  }

  /** Rebuilds a profile that crossed a thread boundary. */
  static revive(clone: SeasonProfile): SeasonProfile {
    const p = new SeasonProfile(clone.timezone);
    p.w.set(clone.w);
    p.mean.set(clone.mean);
    p.m2.set(clone.m2);
    return p;
  }

  toJSON(): SeasonProfileJson {
    return { timezone: this.timezone, w: Array.from(this.w), mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }

  static fromJSON(json: unknown, where: string): SeasonProfile {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${where} must be an object`);
    const o = json as Record<string, unknown>;
    if (typeof o.timezone !== 'string') throw new Error(`${where}.timezone must be a string`);
    const p = new SeasonProfile(o.timezone);
    for (const [name, target, ok] of [
      ['w', p.w, (v: number) => v >= 0],
      ['mean', p.mean, () => true],
      ['m2', p.m2, (v: number) => v >= 0],
    ] as const) {
      const a = o[name];
      if (!Array.isArray(a) || a.length !== SLOTS) throw new Error(`${where}.${name} must be an array of ${SLOTS} numbers`);
      a.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`${where}.${name}[${i}] is not a valid number: ${JSON.stringify(v)}`);
        target[i] = v;
      });
    }
    return p;
  }

  /** How well each period describes the channel, and which one to use. */
  seasonality(mode: SeasonalityMode, current: SeasonPeriod | null = null): Seasonality {
    const daily = this.fit(DAILY_BASE, DAILY_SLOTS);
    const weekly = this.fit(WEEKLY_BASE, WEEKLY_SLOTS);
    const out: Seasonality = { period: null, daily, weekly };
    if (mode === 'off') return out;
    const covered = (f: PeriodFit) => f.coverage >= MIN_COVERAGE;
    if (mode === 'daily' || mode === 'weekly') {
      out.period = covered(mode === 'daily' ? daily : weekly) ? mode : null;
      return out;
    }
    const holds = (f: PeriodFit, p: SeasonPeriod) => {
      const keep = current === p;
      return covered(f) && f.consistency >= (keep ? KEEP_CONSISTENCY : MIN_CONSISTENCY) && f.explained >= (keep ? KEEP_EXPLAINED : MIN_EXPLAINED);
    };
    if (holds(weekly, 'weekly') && (!holds(daily, 'daily') || weekly.within < WEEKLY_GAIN * daily.within || current === 'weekly')) out.period = 'weekly';
    else if (holds(daily, 'daily')) out.period = 'daily';
    return out;
  }

  /** d and r per slot of `period`, for scoring (both parities merged, shrunk while a slot has little weight). */
  data(period: SeasonPeriod): SeasonData {
    const base = period === 'daily' ? DAILY_BASE : WEEKLY_BASE;
    const n = period === 'daily' ? DAILY_SLOTS : WEEKLY_SLOTS;
    const slots = this.merged(base, n);
    const all = total(slots);
    let within = 0;
    for (let s = 0; s < n; s++) within += slots.m2[s];
    const pooled = all.w > 0 ? within / all.w : 0;
    const deviation = new Float64Array(n);
    const ratio = new Float64Array(n).fill(1);
    for (let s = 0; s < n; s++) {
      const w = slots.w[s];
      if (!(w > 0)) continue;
      deviation[s] = (w / (w + SHRINK_WEIGHT)) * (slots.mean[s] - all.mean);
      const own = (slots.m2[s] + SPREAD_PRIOR_WEIGHT * pooled) / (w + SPREAD_PRIOR_WEIGHT);
      if (pooled > 0) ratio[s] = Math.min(MAX_RATIO, Math.max(MIN_RATIO, Math.sqrt(pooled / own)));
    }
    return { period, timezone: this.timezone, center: all.mean, deviation, ratio };
  }

  private push(i: number, x: number, weight: number): void {
    const w = this.w[i] + weight;
    const delta = x - this.mean[i];
    this.mean[i] += (delta * weight) / w;
    this.m2[i] += weight * delta * (x - this.mean[i]);
    this.w[i] = w;
  }

  private merged(base: number, n: number): Slots {
    const out = emptySlots(n);
    for (let half = 0; half < 2; half++) {
      for (let s = 0; s < n; s++) mergeInto(out, s, this.w[base + half * n + s], this.mean[base + half * n + s], this.m2[base + half * n + s]);
    }
    return out;
  }

  private fit(base: number, n: number): PeriodFit {
    const merged = this.merged(base, n);
    const all = total(merged);
    let within = 0;
    for (let s = 0; s < n; s++) within += merged.m2[s];
    const fit: PeriodFit = {
      consistency: NaN,
      explained: all.w > 0 && all.m2 > 0 ? 1 - within / all.m2 : NaN,
      coverage: 0,
      within: all.w > 0 ? within / all.w : NaN,
      total: all.w > 0 ? all.m2 / all.w : NaN,
    };
    // Correlation of the even and odd profiles over the slots both have seen, each about its own mean.
    const a: number[] = [];
    const b: number[] = [];
    for (let s = 0; s < n; s++) {
      const wa = this.w[base + s];
      const wb = this.w[base + n + s];
      if (wa >= 1 && wb >= 1) {
        a.push(this.mean[base + s]);
        b.push(this.mean[base + n + s]);
      }
    }
    fit.coverage = a.length / n;
    fit.consistency = correlation(a, b);
    return fit;
  }
}

/** y(x, t) and its inverse for a seasonal channel, on the local clock of the zone its slots were learned in. */
export class SeasonCurve {
  private readonly n: number;
  private readonly clock: LocalClock;

  constructor(readonly data: SeasonData, clock?: LocalClock) {
    this.n = data.period === 'daily' ? DAILY_SLOTS : WEEKLY_SLOTS;
    this.clock = clock && clock.timeZone === data.timezone ? clock : new LocalClock(data.timezone);
  }

  get period(): SeasonPeriod {
    return this.data.period;
  }

  /** The slot of `utcMs` in the period, -1 when the time is unknown. */
  slot(utcMs: number): number {
    if (utcMs !== utcMs) return -1;
    const hour = Math.floor(this.clock.local(utcMs) / HOUR_MS);
    if (this.n === DAILY_SLOTS) return ((hour % 24) + 24) % 24;
    const day = Math.floor(hour / 24);
    return ((((day + MONDAY_OFFSET) % 7) + 7) % 7) * 24 + (hour - day * 24);
  }

  /** The expected value at `utcMs` (M + d): what the dashboard's band is centred on. */
  expected(utcMs: number): number {
    const s = this.slot(utcMs);
    return this.data.center + (s < 0 ? 0 : this.data.deviation[s]);
  }

  /** y = M + r (x - M - d); x itself when the time is unknown. */
  deseasonalised(x: number, utcMs: number): number {
    const s = this.slot(utcMs);
    if (s < 0) return x;
    const m = this.data.center;
    return m + this.data.ratio[s] * (x - m - this.data.deviation[s]);
  }

  /** x of a deseasonalised y. */
  restored(y: number, utcMs: number): number {
    const s = this.slot(utcMs);
    if (s < 0) return y;
    const m = this.data.center;
    return m + this.data.deviation[s] + (y - m) / this.data.ratio[s];
  }
}

/**
 * Replaces, in `rows` row-major rows of `curves.length` values, each seasonal channel's x by its
 * y(x, t), t the row's time (ms; NaN: unknown, x is left as it is).
 */
export function deseasonalise(values: Float64Array, rows: number, curves: readonly (SeasonCurve | undefined)[], times: ArrayLike<number>): void {
  const k = curves.length;
  for (let c = 0; c < k; c++) {
    const curve = curves[c];
    if (curve === undefined) continue;
    for (let r = 0; r < rows; r++) values[r * k + c] = curve.deseasonalised(values[r * k + c], times[r]);
  }
}

interface Slots {
  w: Float64Array;
  mean: Float64Array;
  m2: Float64Array;
}

function emptySlots(n: number): Slots {
  return { w: new Float64Array(n), mean: new Float64Array(n), m2: new Float64Array(n) };
}

function mergeInto(out: Slots, s: number, wb: number, mb: number, m2b: number): void {
  if (!(wb > 0)) return;
  const wa = out.w[s];
  const w = wa + wb;
  const delta = mb - out.mean[s];
  out.mean[s] += (delta * wb) / w;
  out.m2[s] += m2b + (delta * delta * wa * wb) / w;
  out.w[s] = w;
}

function total(slots: Slots): { w: number; mean: number; m2: number } {
  const one = emptySlots(1);
  for (let s = 0; s < slots.w.length; s++) mergeInto(one, 0, slots.w[s], slots.mean[s], slots.m2[s]);
  return { w: one.w[0], mean: one.mean[0], m2: one.m2[0] };
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  if (n < 3) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}
