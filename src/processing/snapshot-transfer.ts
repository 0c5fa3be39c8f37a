import { Episode, EpisodeJson } from '../baseline/channel-learning';
import { ExclusionWindows } from '../baseline/exclusion-windows';
import { BaselineSnapshot, ChannelBaseline, ReferenceWindowView } from '../detection/detection.types';
import { WindowData, windowData, windowView } from '../detection/window-transfer';
import { LearningStart } from './contribution-builder';

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
  /** Where the channel's learning stood (rows seen, episode), for the contribution of the batch. */
  learning: { rows: number; episode: EpisodeJson; changeEpisode: EpisodeJson } | null;
}

export function snapshotData(snapshot: BaselineSnapshot, channels: readonly string[]): SnapshotData {
  return { channels: channelData(snapshot, channels), window: windowData(snapshot.window) };
}

/** The statistics of `channels` (null for a channel without a baseline yet). */
export function channelData(snapshot: BaselineSnapshot, channels: Iterable<string>): ChannelData[] {
  const starts = snapshot as BaselineSnapshot & { learningStart?: (channel: string) => LearningStart | undefined };
  return Array.from(channels, (channel) => {
    const b = snapshot.lookup(channel);
    const l = starts.learningStart?.(channel);
    return {
      channel,
      baseline: b
        ? {
            count: b.count,
            mean: b.mean,
            std: b.std,
            skewness: b.skewness,
            kurtosis: b.kurtosis,
            ...(b.tails ? { tails: { upper: sketchData(b.tails.upper), lower: sketchData(b.tails.lower) } } : {}),
            ...(b.change
              ? {
                  change: {
                    ...b.change,
                    ...(b.change.tails ? { tails: { upper: sketchData(b.change.tails.upper), lower: sketchData(b.change.tails.lower) } } : {}),
                    ...(b.change.discrete ? { discrete: { values: Array.from(b.change.discrete.values), weights: Array.from(b.change.discrete.weights) } } : {}),
                  },
                }
              : {}),
            ...(b.discrete ? { discrete: { values: Array.from(b.discrete.values), weights: Array.from(b.discrete.weights) } } : {}),
            ...(b.resolution !== undefined ? { resolution: b.resolution } : {}),
            ...(b.last !== undefined ? { last: b.last } : {}),
            ...(b.sustained ? { sustained: { ...b.sustained } } : {}),
            ...(b.bands ? { bands: { level: [...b.bands.level], change: [...b.bands.change] } } : {}),
            ...(b.season ? { season: { ...b.season, deviation: Float64Array.from(b.season.deviation), ratio: Float64Array.from(b.season.ratio) } } : {}),
          }
        : null,
      learning: l ? { rows: l.rows, episode: l.episode.toJSON(), changeEpisode: l.changeEpisode.toJSON() } : null,
    };
  });
}

function sketchData(s: { weight: ArrayLike<number> }): { weight: Float64Array } {
  return { weight: Float64Array.from(s.weight) };
}

/** The operators' windows a snapshot carries (BaselineState's, or a worker's copy), when it has any. */
export function exclusionsOf(snapshot: BaselineSnapshot): ExclusionWindows | undefined {
  const e = (snapshot as BaselineSnapshot & { exclusions?: unknown }).exclusions;
  return e instanceof ExclusionWindows ? e : undefined;
}

/** The snapshot a worker scores against: the channels' statistics over a rebuilt window. */
export class StaticSnapshot implements BaselineSnapshot {
  private readonly baselines = new Map<string, ChannelBaseline>();
  private readonly starts = new Map<string, LearningStart>();

  constructor(
    channels: readonly ChannelData[],
    readonly window: ReferenceWindowView,
    readonly exclusions = new ExclusionWindows(),
  ) {
    for (const { channel, baseline, learning } of channels) {
      if (baseline) this.baselines.set(channel, Object.freeze({ ...baseline }));
      if (learning) {
        this.starts.set(channel, {
          rows: learning.rows,
          episode: Episode.fromJSON(learning.episode, `episode of "${channel}"`),
          changeEpisode: Episode.fromJSON(learning.changeEpisode, `change episode of "${channel}"`),
        });
      }
    }
  }

  /** From SnapshotData, as one piece. */
  static of(data: SnapshotData): StaticSnapshot {
    return new StaticSnapshot(data.channels, windowView(data.window));
  }

  lookup(channel: string, entity?: string): ChannelBaseline | undefined {
    return entity === undefined ? this.baselines.get(channel) : undefined;
  }

  learningStart(channel: string, entity?: string): LearningStart | undefined {
    return entity === undefined ? this.starts.get(channel) : undefined;
  }
}
