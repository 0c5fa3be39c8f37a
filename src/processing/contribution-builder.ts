import { BatchContribution, LearningDelta } from '../baseline/batch-contribution';
import { DEFAULT_RELEARN_AFTER, Episode, RelearnAfter, seasonalRelearnAfter } from '../baseline/channel-learning';
import { RunningStats } from '../baseline/running-stats';
import { ChannelModel, Standardiser, SUSTAINED_FLOOR, sustainedStep } from '../detection/channel-model';
import { RowScore } from '../detection/detection.types';
import { changeKey, DiscreteValues } from '../detection/discrete-values';
import { LocalClock } from '../detection/local-clock';
import { SeasonProfile } from '../detection/season-profile';
import { TwoSidedSketch } from '../detection/tail-sketch';
import { BadInputError } from './bad-input.error';

/** Per entity, the statistics kept for one batch: the bound keeps a hostile file from growing memory. */
export const MAX_ENTITIES_PER_BATCH = 10000;
/**
 * Entities of a batch whose channels learn season profiles (9 KB per channel): beyond, a batch of
 * thousands of hosts would need hundreds of MB for them. The baseline bounds them overall too.
 */
export const MAX_SEASON_ENTITIES_PER_BATCH = 1000;
/** Values per channel a batch keeps for its resolution (the smallest step between distinct values). */
const RESOLUTION_SAMPLE = 4096;

/** Where a channel's learning stood before the batch (BaselineState's, across threads as data). */
export interface LearningStart {
  rows: number;
  episode: Episode;
  changeEpisode: Episode;
}

export interface ContributionSources {
  /** The channels' models for an entity, as the detector scores with them. */
  models(entity: string | undefined): readonly ChannelModel[];
  /** The learning state of a channel before the batch (undefined: a new channel). */
  start?(channel: string, entity: string | undefined): LearningStart | undefined;
  relearnAfter?: RelearnAfter;
  /** IANA zone of the season profile's slots (default UTC). */
  timezone?: string;
}

/** What is learned of one quantity (a channel's values, or its changes) and where. */
interface Learning {
  tails: TwoSidedSketch;
  discrete: DiscreteValues;
  episode: Episode;
  /** Values within their limits. */
  within: RunningStats;
  /** Values beyond, at their limit and weighted. */
  limited: RunningStats;
  /** Values beyond, raw. */
  beyond?: RunningStats;
}

/** One channel (of one entity) in this batch: its values, its changes, and where it stands. */
interface Track {
  level: Required<Learning>;
  /** A change beyond its limit joins the change statistics at its limit, as a value joins the moments. */
  change: Learning;
  sample: number[];
  /** The batch's slots, from the first row with a timestamp (channels without entities only). */
  season?: SeasonProfile;
  /** The sustained statistic e: its value now, and its moments learned in this batch. */
  sustained: { e: number; stats: RunningStats };
  last: number;
  rows: number;
  time: number;
}

interface EntityTracks {
  models: readonly ChannelModel[];
  tracks: Track[];
  /** Whether this entity's channels learn season profiles (bounded per batch: MAX_SEASON_ENTITIES_PER_BATCH). */
  seasons: boolean;
}

/**
 * Collects, while a batch is scored, what it will give the baseline: per channel (and entity) the
 * moments of the values within their learning limits and of those beyond, the tails of the
 * channel's deviations and changes, its smallest step, its last value and episode; and the last
 * normal rows for the isolation forest's reference window. Rows must arrive in file order: the
 * changes and the episodes follow it. Memory is bounded: a few numbers and two sketches per channel
 * and entity, a sample of RESOLUTION_SAMPLE values per channel, and a ring of `windowCapacity` rows.
 */
export class ContributionBuilder {
  private readonly byEntity = new Map<string | undefined, EntityTracks>();
  private readonly ring: Float64Array;
  private readonly ringEntities: (string | undefined)[];
  private ringNext = 0;
  private ringSize = 0;
  private lastEntity: string | undefined;
  private lastTracks: EntityTracks | null = null;
  private seasonEntities = 0;
  private readonly relearnAfter: RelearnAfter;
  private readonly seasonalRelearnAfter: RelearnAfter;
  private readonly clock: LocalClock;
  /** What the last learnQuantity learned of its value, and with which weight. */
  private learnedX = NaN;
  private learnedW = 0;

  constructor(
    private readonly channels: readonly string[],
    private readonly sources: ContributionSources,
    private readonly windowCapacity = 2048,
  ) {
    this.ring = new Float64Array(Math.max(1, windowCapacity) * channels.length);
    this.ringEntities = new Array(windowCapacity);
    this.relearnAfter = sources.relearnAfter ?? DEFAULT_RELEARN_AFTER;
    this.seasonalRelearnAfter = seasonalRelearnAfter(this.relearnAfter);
    this.clock = new LocalClock(sources.timezone ?? 'UTC');
  }

  /** One scored row: its values are `values[offset, offset + channels)`; `time` ms since the epoch or NaN. */
  add(values: Float64Array, offset: number, entity: string | undefined, score: RowScore, line: number, time = NaN): void {
    const et = entity === this.lastEntity && this.lastTracks !== null ? this.lastTracks : this.tracksOf(entity, line);
    const k = this.channels.length;
    for (let c = 0; c < k; c++) {
      const v = values[offset + c];
      if (v !== v) continue; // NaN: missing, in none
      this.learn(et.tracks[c], et.models[c], v, time, et.seasons);
    }
    if (score.scorable && !score.anomaly && this.windowCapacity > 0) {
      const at = this.ringNext * k;
      for (let c = 0; c < k; c++) this.ring[at + c] = values[offset + c];
      this.ringEntities[this.ringNext] = entity;
      this.ringNext = (this.ringNext + 1) % this.windowCapacity;
      if (this.ringSize < this.windowCapacity) this.ringSize++;
    }
  }

  /** Values learned as they are, per channel, over all entities. */
  acceptedCounts(): number[] {
    const out = this.channels.map(() => 0);
    for (const e of this.byEntity.values()) e.tracks.forEach((t, c) => (out[c] += t.level.within.count));
    return out;
  }

  get entities(): (string | undefined)[] {
    return [...this.byEntity.keys()];
  }

  build(): BatchContribution {
    const k = this.channels.length;
    const channels: BatchContribution['channels'] = [];
    for (const [entity, e] of this.byEntity) {
      for (let c = 0; c < k; c++) {
        const t = e.tracks[c];
        const { level, change } = t;
        if (level.within.count === 0 && level.beyond.count === 0) continue;
        const learning: LearningDelta = {
          tails: level.tails,
          change: change.within,
          changeTails: change.tails,
          discrete: level.discrete,
          changeDiscrete: change.discrete,
          resolution: smallestStep(t.sample),
          last: t.last,
          rows: t.rows,
          time: t.time,
          episode: level.episode,
          changeEpisode: change.episode,
          ...(t.season ? { season: t.season } : {}),
          sustained: { stats: t.sustained.stats, last: t.sustained.e },
        };
        const entry: BatchContribution['channels'][number] = {
          channel: this.channels[c],
          accepted: level.within,
          rejected: level.beyond,
          winsorised: level.limited,
          learning,
        };
        if (entity !== undefined) entry.entity = entity;
        channels.push(entry);
      }
    }
    const normalRows: BatchContribution['normalRows'] = [];
    const start = this.ringSize < this.windowCapacity ? 0 : this.ringNext;
    for (let i = 0; i < this.ringSize; i++) {
      const slot = (start + i) % this.windowCapacity;
      const row: { values: number[]; entity?: string } = {
        values: Array.from(this.ring.subarray(slot * k, slot * k + k)),
      };
      const entity = this.ringEntities[slot];
      if (entity !== undefined) row.entity = entity;
      normalRows.push(row);
    }
    return { channels, normalRows, windowColumns: [...this.channels] };
  }

  /**
   * One value of one channel: its level, then its change from the channel's previous value, and
   * its slot of the season profile. For a seasonal channel `v` is already its deseasonalised y.
   */
  private learn(t: Track, m: ChannelModel, v: number, time: number, seasons: boolean): void {
    t.rows++;
    if (time === time) t.time = time;
    if (m.level === undefined) {
      t.level.within.push(v);
      this.learnedX = v;
      this.learnedW = 1;
    } else {
      const shifted = this.learnSustained(t, m, v, time, m.season !== undefined);
      if (this.learnQuantity(t.level, m.level, v, v, t.rows, time, m.season !== undefined, shifted && m.sustainedTested) && t.sample.length < RESOLUTION_SAMPLE) {
        t.sample.push(m.season ? m.season.restored(v, time) : v);
      }
    }
    if (seasons && time === time) {
      // The profile learns x as the level learned it: a spike at its limit, not as it is.
      t.season ??= new SeasonProfile(this.clock.timeZone);
      t.season.add(this.clock.local(time), m.season ? m.season.restored(this.learnedX, time) : this.learnedX, this.learnedW);
    }
    const prev = t.last;
    t.last = v;
    if (prev !== prev) return;
    const change = v - prev;
    if (m.change === undefined) {
      t.change.within.push(change);
      t.change.discrete.add(changeKey(change));
    } else {
      this.learnQuantity(t.change, m.change, change, changeKey(change), t.rows, time, m.season !== undefined);
    }
  }

  /**
   * A value (or a change) within its learning limit is learned as it is. Beyond, it is an
   * exceedance: outside an episode a spike, which the moments take at its limit and the tails leave
   * out; inside one it counts as the episode grows old. A quantised channel lists it either way: it
   * becomes ordinary only by recurring outside episodes. Returns whether it was within.
   */
  private learnQuantity(q: Learning, st: Standardiser, x: number, key: number, row: number, time: number, seasonal: boolean, sustained = false): boolean {
    const s = (x - st.center) / st.scale;
    const limit = s >= 0 ? st.learnUpper : st.learnLower;
    // An operator's normal bands decide flags only: learned, such a value is still a spike at its
    // limit, so that a known 10-sd class does not widen the channel for every other fault.
    const beyond = Math.abs(s) > limit && !(st.ordinary?.has(key) ?? false);
    const exceeded = beyond || sustained;
    q.episode.observe(exceeded, s >= 0, x, row, time);
    if (!exceeded) {
      q.tails.add(s);
      q.discrete.add(key);
      q.within.push(x);
      this.learnedX = x;
      this.learnedW = 1;
      return true;
    }
    q.beyond?.push(x);
    const w = q.episode.active ? q.episode.progress(row, time, seasonal ? this.seasonalRelearnAfter : this.relearnAfter) : 1;
    if (q.episode.active) q.tails.add(s, w);
    q.discrete.add(key, w);
    this.learnedX = beyond ? st.center + (s >= 0 ? 1 : -1) * limit * st.scale : x;
    this.learnedW = w;
    weightedPush(q.limited, this.learnedX, w);
    return false;
  }

  /**
   * e after `v`, learned within its learning limit as it is; beyond, only as the level's episode
   * grows old. Returns whether e is a sustained shift (beyond its learning limit and at least
   * SUSTAINED_FLOOR scale units): the level then counts the value as an exceedance even when it is
   * within its own limit, so an incident of many moderate values is an episode, held out of the
   * baseline until BASELINE_RELEARN_AFTER, and a lasting one moves the level there.
   */
  private learnSustained(t: Track, m: ChannelModel, v: number, time: number, seasonal: boolean): boolean {
    const q = t.sustained;
    q.e = sustainedStep(q.e, v, m.level!);
    const st = m.sustained!;
    const s = (q.e - st.center) / st.scale;
    const limit = s >= 0 ? st.learnUpper : st.learnLower;
    if (Math.abs(s) <= limit) {
      q.stats.push(q.e);
      return false;
    }
    // Beyond its limit e is a sustained shift, by its definition: learned only as the level's
    // episode grows old, so that an incident does not widen e while it lasts.
    const episode = t.level.episode;
    const w = episode.active ? episode.progress(t.rows, time, seasonal ? this.seasonalRelearnAfter : this.relearnAfter) : 0;
    weightedPush(q.stats, st.center + (s >= 0 ? 1 : -1) * limit * st.scale, w);
    return Math.abs(q.e - st.center) >= SUSTAINED_FLOOR;
  }

  private tracksOf(entity: string | undefined, line: number): EntityTracks {
    let e = this.byEntity.get(entity);
    if (e === undefined) {
      if (this.byEntity.size >= MAX_ENTITIES_PER_BATCH) {
        throw new BadInputError(`more than ${MAX_ENTITIES_PER_BATCH} distinct entities in one batch`, line);
      }
      const models = this.sources.models(entity);
      e = {
        seasons: entity === undefined || this.seasonEntities++ < MAX_SEASON_ENTITIES_PER_BATCH,
        models,
        tracks: this.channels.map((channel, c) => {
          const start = this.sources.start?.(channel, entity);
          return newTrack(models[c].previous, start, models[c].previousSustained);
        }),
      };
      this.byEntity.set(entity, e);
    }
    this.lastEntity = entity;
    this.lastTracks = e;
    return e;
  }
}

function newTrack(last: number, start: LearningStart | undefined, sustained: number): Track {
  const changes = new RunningStats();
  return {
    level: {
      tails: new TwoSidedSketch(),
      discrete: new DiscreteValues(),
      episode: start ? start.episode.clone() : new Episode(),
      within: new RunningStats(),
      limited: new RunningStats(),
      beyond: new RunningStats(),
    },
    change: {
      tails: new TwoSidedSketch(),
      discrete: new DiscreteValues(),
      episode: start ? start.changeEpisode.clone() : new Episode(),
      within: changes,
      limited: changes,
    },
    sample: [],
    sustained: { e: sustained, stats: new RunningStats() },
    last,
    rows: start?.rows ?? 0,
    time: NaN,
  };
}

/** Adds `x` with weight `w` (in (0, 1]), exactly as the weighted merge of a one-value sample. */
function weightedPush(stats: RunningStats, x: number, w: number): void {
  if (!(w > 0)) return;
  const one = new RunningStats();
  one.push(x);
  if (w < 1) one.decay(w);
  stats.merge(one);
}

function smallestStep(values: number[]): number {
  if (values.length < 2) return Infinity;
  const sorted = Float64Array.from(values).sort();
  let best = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i] - sorted[i - 1];
    // Steps at the last bits of a double are rounding (a deseasonalised value put back), not the channel's.
    if (d > 1e-9 * Math.abs(sorted[i]) && d < best) best = d;
  }
  return best;
}
