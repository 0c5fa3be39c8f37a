import { BaselineSnapshot, ChannelBaseline, ReferenceWindowView } from '../detection/detection.types';

/**
 * A baseline snapshot reduced to what scoring a batch of known channels reads, as plain data that
 * can be posted to a worker thread: the channels' statistics and the reference window's rows. The
 * worker rebuilds an equivalent snapshot from it (`StaticSnapshot`), so its detector scores exactly
 * as one on the original would (same numbers, same window, hence the same forest).
 *
 * Entity baselines are not carried: batches with ENTITY_COLUMN are scored on the main thread.
 */
export interface SnapshotData {
  channels: ChannelData[];
  window: WindowData;
}

export interface ChannelData {
  channel: string;
  baseline: ChannelBaseline | null;
}

export interface WindowData {
  columns: string[];
  size: number;
  generation: number;
  /** Row-major, `size * columns.length` values (NaN kept). */
  values: Float64Array;
  /** Per row; null when no row has an entity. */
  entities: (string | null)[] | null;
}

export function snapshotData(snapshot: BaselineSnapshot, channels: readonly string[]): SnapshotData {
  return { channels: channelData(snapshot, channels), window: windowData(snapshot.window) };
}

/** The statistics of `channels` (null for a channel without a baseline yet). */
export function channelData(snapshot: BaselineSnapshot, channels: Iterable<string>): ChannelData[] {
  return Array.from(channels, (channel) => {
    const b = snapshot.lookup(channel);
    return { channel, baseline: b ? { count: b.count, mean: b.mean, std: b.std, skewness: b.skewness, kurtosis: b.kurtosis } : null };
  });
}

export function windowData(w: ReferenceWindowView): WindowData {
  const n = w.columns.length;
  const values = new Float64Array(w.size * n);
  const entities: (string | null)[] = [];
  let anyEntity = false;
  for (let i = 0; i < w.size; i++) {
    const row = w.row(i);
    for (let c = 0; c < n; c++) values[i * n + c] = row.values[c];
    entities.push(row.entity ?? null);
    if (row.entity !== undefined) anyEntity = true;
  }
  return { columns: [...w.columns], size: w.size, generation: w.generation, values, entities: anyEntity ? entities : null };
}

/** A window rebuilt from WindowData, to be shared by every snapshot with that window. */
export function windowView(data: WindowData): ReferenceWindowView {
  const { columns, size, generation, values, entities } = data;
  const n = columns.length;
  const rows = Array.from({ length: size }, (_, i) => {
    const row: { values: Float64Array; entity?: string } = { values: values.subarray(i * n, i * n + n) };
    const entity = entities?.[i];
    if (entity !== null && entity !== undefined) row.entity = entity;
    return Object.freeze(row);
  });
  return Object.freeze({
    columns: Object.freeze([...columns]),
    size,
    generation,
    row(i: number) {
      if (!(i >= 0 && i < size)) throw new RangeError(`reference window row ${i} out of range (size ${size})`);
      return rows[i];
    },
  });
}

/** The snapshot a worker scores against: the channels' statistics over a rebuilt window. */
export class StaticSnapshot implements BaselineSnapshot {
  private readonly baselines = new Map<string, ChannelBaseline>();

  constructor(
    channels: readonly ChannelData[],
    readonly window: ReferenceWindowView,
  ) {
    for (const { channel, baseline } of channels) if (baseline) this.baselines.set(channel, Object.freeze({ ...baseline }));
  }

  /** From SnapshotData, as one piece. */
  static of(data: SnapshotData): StaticSnapshot {
    return new StaticSnapshot(data.channels, windowView(data.window));
  }

  lookup(channel: string, entity?: string): ChannelBaseline | undefined {
    return entity === undefined ? this.baselines.get(channel) : undefined;
  }
}
