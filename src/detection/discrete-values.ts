/**
 * The values a quantised channel has shown, and how often: a pump pressure read by an ADC, a count
 * that rests at 0, a square wave. Such a channel moves among a handful of values; a value it has
 * shown often is not unusual however far it lies from the mean (measured on the NAB series: a
 * 0/20 spike train whose twenties were flagged forever; a daily square wave whose two steps a day
 * were flagged), while a value it never took is judged by the tails. When the list is full (twice
 * MAX_DISCRETE_VALUES between prunings) the lightest values are pushed out (a spike's odd value, seen once) and their weight counted: a
 * continuous channel pushes out most of what it shows, and once that is more than
 * MAX_DROPPED_SHARE of its weight it is not quantised and keeps nothing.
 */
import { DiscreteData } from './detection.types';

/**
 * Distinct values listed at most; beyond, the channel is continuous. Few: a count channel with a
 * few dozen values (requests per second) is not quantised in this sense, and listing it would make
 * a recurring burst ordinary.
 */
export const MAX_DISCRETE_VALUES = 64;
/** Weight of the values pushed out of the list, as a share of all, beyond which the channel is continuous. */
export const MAX_DROPPED_SHARE = 0.05;

/**
 * The key a change is listed under: float32 rounding, so that the same step between two decimal
 * readings (0.31 - 0.30 and 0.71 - 0.70 differ in their last bits) is one value. Values themselves
 * are keyed exactly: the same text parses to the same number.
 */
export function changeKey(d: number): number {
  return Math.fround(d);
}
/** A listed value is ordinary once it holds this share of the weight... */
export const DISCRETE_MIN_SHARE = 0.002;
/** ...and was seen at least this often. */
export const DISCRETE_MIN_WEIGHT = 3;

export type DiscreteValuesJson = { values: [number, number][]; dropped: number } | null;

export class DiscreteValues implements DiscreteData {
  private map: Map<number, number> | null = new Map();
  private kept = 0;
  private dropped = 0;

  /** False once the values pushed out of the list weigh more than MAX_DROPPED_SHARE of all. */
  get discrete(): boolean {
    return this.map !== null;
  }

  get values(): number[] {
    return this.map ? [...this.map.keys()] : [];
  }

  get weights(): number[] {
    return this.map ? [...this.map.values()] : [];
  }

  add(value: number, weight = 1): void {
    const m = this.map;
    if (m === null || !(weight > 0)) return;
    m.set(value, (m.get(value) ?? 0) + weight);
    this.kept += weight;
    // Pruned in bulk once the list is twice full: each value costs O(log n) on average, not a scan.
    if (m.size > 2 * MAX_DISCRETE_VALUES) this.pushOutLightest();
  }

  /** Keeps the MAX_DISCRETE_VALUES heaviest values. */
  private pushOutLightest(): void {
    const entries = [...this.map!.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [, w] of entries.slice(MAX_DISCRETE_VALUES)) {
      this.kept -= w;
      this.dropped += w;
    }
    this.map = new Map(entries.slice(0, MAX_DISCRETE_VALUES));
    if (this.dropped > MAX_DROPPED_SHARE * (this.kept + this.dropped)) this.map = null;
  }

  merge(other: DiscreteValues): this {
    if (other.map === null) {
      this.map = null;
      return this;
    }
    for (const [v, w] of other.map) this.add(v, w);
    if (this.map && this.map.size > MAX_DISCRETE_VALUES) this.pushOutLightest();
    this.dropped += other.dropped;
    if (this.map && this.dropped > MAX_DROPPED_SHARE * (this.kept + this.dropped)) this.map = null;
    return this;
  }

  decay(factor: number): this {
    if (this.map) for (const [v, w] of this.map) this.map.set(v, w * factor);
    this.kept *= factor;
    this.dropped *= factor;
    return this;
  }

  clone(): DiscreteValues {
    const c = new DiscreteValues();
    c.map = this.map ? new Map(this.map) : null;
    c.kept = this.kept;
    c.dropped = this.dropped;
    return c;
  }

  /** Rebuilds values that crossed a thread boundary (a structured clone keeps the fields, not the class). */
  static revive(clone: DiscreteValues): DiscreteValues {
    const o = clone as unknown as { map: Map<number, number> | null; kept: number; dropped: number };
    const d = new DiscreteValues();
    d.map = o.map ? new Map(o.map) : null;
    d.kept = o.kept;
    d.dropped = o.dropped;
    return d;
  }

  toJSON(): DiscreteValuesJson {
    return this.map ? { values: [...this.map.entries()], dropped: this.dropped } : null;
  }

  static fromJSON(json: unknown, where: string): DiscreteValues {
    const d = new DiscreteValues();
    if (json === null) {
      d.map = null;
      return d;
    }
    const o = json as { values?: unknown; dropped?: unknown };
    if (typeof json !== 'object' || !Array.isArray(o.values) || !(typeof o.dropped === 'number' && o.dropped >= 0)) {
      throw new TypeError(`${where} must be null or {values: [[value, weight], ...], dropped: weight}`);
    }
    for (const [i, e] of o.values.entries()) {
      if (!Array.isArray(e) || e.length !== 2 || !Number.isFinite(e[0]) || !(Number.isFinite(e[1]) && e[1] >= 0)) {
        throw new TypeError(`${where}.values[${i}] must be [value, weight >= 0], got ${JSON.stringify(e)}`);
      }
      d.add(e[0], e[1]);
    }
    d.dropped = o.dropped;
    return d;
  }

}

/** The values of `data` that are ordinary: often enough seen. */
export function ordinaryValues(data: DiscreteData | undefined): Set<number> | undefined {
  if (!data || data.values.length === 0) return undefined;
  let total = 0;
  for (let i = 0; i < data.weights.length; i++) total += data.weights[i];
  const out = new Set<number>();
  for (let i = 0; i < data.values.length; i++) {
    const w = data.weights[i];
    if (w >= DISCRETE_MIN_WEIGHT && w >= DISCRETE_MIN_SHARE * total) out.add(data.values[i]);
  }
  return out.size > 0 ? out : undefined;
}
