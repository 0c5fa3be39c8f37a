import { BaselineSnapshot, ChannelBaseline, ReferenceWindowView } from '../detection/detection.types';
import { WindowData, windowData, windowView } from '../detection/window-transfer';

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
