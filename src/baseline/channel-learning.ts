/**
 * What the baseline learns about a channel beyond its moments: the tails of its deviations and of
 * its changes (src/detection/tail-sketch.ts), the statistics of its changes, its resolution, its
 * last value, and the episode it may be in. Pure: no framework, no I/O.
 *
 * Episodes tell a sustained incident from isolated exceedances, in rows or time, whatever the batch
 * size. An exceedance is a value beyond its learning limit (src/detection/channel-model.ts
 * LEARN_P). Each value updates an exponentially weighted exceedance rate (EPISODE_LAMBDA: about the
 * last 20 values); the channel enters an episode when the rate passes EPISODE_ON and leaves it when
 * the rate falls below EPISODE_OFF. Outside episodes an exceedance is a spike: the moments take it
 * at its limit, the tails leave it out. Inside one it is learned with the weight
 * elapsed / relearnAfter (capped at 1): an incident shorter than `relearnAfter` barely teaches the
 * baseline anything, so it stays flagged for its whole length and the return to the old level is
 * normal; an episode longer than that is, step by step, learned as the new normal. When such an
 * episode is a level (its exceedances on one side, tight around their mean), the channel's center
 * moves to it outright (BaselineState).
 *
 * A channel with timestamps also learns its daily and weekly profile (src/detection/season-profile.ts)
 * and which period, if any, it is judged against.
 */
import { SUSTAINED_CLIP } from '../detection/channel-model';
import { MAX_NORMAL_BANDS, mergeBands, NormalBands } from '../detection/normal-bands';
import { DiscreteValues, DiscreteValuesJson } from '../detection/discrete-values';
import { SeasonPeriod, SeasonProfile, SeasonProfileJson } from '../detection/season-profile';
import { TwoSidedSketch } from '../detection/tail-sketch';
import { BaselineFormatError } from './baseline.errors';
import { RunningStats, RunningStatsJson } from './running-stats';

export const EPISODE_LAMBDA = 0.05;
export const EPISODE_ON = 0.2;
export const EPISODE_OFF = 0.05;

/** How long an episode lasts before it is the new normal: `ms` when rows carry timestamps, else `rows`. */
export interface RelearnAfter {
  ms: number;
  rows: number;
  /** Fewest rows in any case (a daily series must not re-learn after two rows). */
  minRows: number;
}

export const DEFAULT_RELEARN_AFTER: RelearnAfter = { ms: 2 * 3600_000, rows: 1000, minRows: 30 };

/**
 * A seasonal channel's episodes are judged over a whole day at least: its incidents are days (a
 * holiday, a missing peak), and moving its level after two hours of one would make the return of
 * its usual shape the next anomaly (measured: src/detection/README.md).
 */
export const SEASONAL_RELEARN_MIN_MS = 24 * 3600_000;

export function seasonalRelearnAfter(after: RelearnAfter): RelearnAfter {
  return { ...after, ms: Math.max(after.ms, SEASONAL_RELEARN_MIN_MS) };
}

/** The configured rule: BASELINE_RELEARN_AFTER / _ROWS, never fewer rows than the maturity count. */
export function relearnAfterOf(config: { relearnAfterMs: number; relearnAfterRows: number; minCount: number }): RelearnAfter {
  return { ms: config.relearnAfterMs, rows: config.relearnAfterRows, minRows: config.minCount };
}

export interface EpisodeJson {
  rate: number;
  active: boolean;
  start_row: number;
  /** ms since the epoch; null without timestamps. */
  start_time: number | null;
  values: RunningStatsJson;
  upper: number;
  lower: number;
}

export class Episode {
  rate = 0;
  active = false;
  /** The channel's row count when the episode began. */
  startRow = 0;
  startTime = NaN;
  /** The exceedances inside the episode, raw. */
  values = new RunningStats();
  upper = 0;
  lower = 0;

  /** One value, `row` the channel's running row count, `time` ms or NaN. */
  observe(exceeded: boolean, above: boolean, value: number, row: number, time: number): void {
    this.rate += EPISODE_LAMBDA * ((exceeded ? 1 : 0) - this.rate);
    if (!this.active && this.rate > EPISODE_ON) {
      this.active = true;
      this.startRow = row;
      this.startTime = time;
      this.values = new RunningStats();
      this.upper = 0;
      this.lower = 0;
    }
    if (!this.active) return;
    if (exceeded) {
      this.values.push(value);
      if (above) this.upper++;
      else this.lower++;
    }
    if (this.rate < EPISODE_OFF) this.active = false;
  }

  /**
   * How far into `relearnAfter` the episode is at (row, time): 0 outside one, 1 once it lasted that
   * long. By time when both ends have timestamps, else by rows; never 1 before `minRows` rows.
   */
  progress(row: number, time: number, after: RelearnAfter): number {
    if (!this.active) return 0;
    const rows = row - this.startRow;
    const byTime = Number.isFinite(time) && Number.isFinite(this.startTime) ? (time - this.startTime) / after.ms : NaN;
    const f = Number.isFinite(byTime) ? byTime : rows / after.rows;
    return Math.max(0, Math.min(1, f, rows / after.minRows));
  }

  clone(): Episode {
    return Episode.revive(this);
  }

  /** Rebuilds an episode that crossed a thread boundary, as `clone` copies one. */
  static revive(clone: Episode): Episode {
    const e = new Episode();
    Object.assign(e, clone);
    e.values = RunningStats.revive(clone.values);
    return e;
  }

  toJSON(): EpisodeJson {
    return {
      rate: this.rate,
      active: this.active,
      start_row: this.startRow,
      start_time: Number.isFinite(this.startTime) ? this.startTime : null,
      values: this.values.toJSON(),
      upper: this.upper,
      lower: this.lower,
    };
  }

  static fromJSON(json: unknown, where: string): Episode {
    const o = objectAt(json, where);
    const e = new Episode();
    e.rate = num(o.rate, `${where}.rate`, (v) => v >= 0 && v <= 1);
    if (typeof o.active !== 'boolean') throw new BaselineFormatError(`${where}.active must be true or false`);
    e.active = o.active;
    e.startRow = num(o.start_row, `${where}.start_row`, (v) => v >= 0);
    e.startTime = o.start_time === null ? NaN : num(o.start_time, `${where}.start_time`, () => true);
    e.values = stats(o.values, `${where}.values`);
    e.upper = num(o.upper, `${where}.upper`, (v) => v >= 0);
    e.lower = num(o.lower, `${where}.lower`, (v) => v >= 0);
    return e;
  }
}

export interface ChannelLearningJson {
  tails: ReturnType<TwoSidedSketch['toJSON']>;
  change: RunningStatsJson;
  change_tails: ReturnType<TwoSidedSketch['toJSON']>;
  /** Distinct values and changes with their weights; null once there were too many to list. */
  discrete: DiscreteValuesJson;
  change_discrete: DiscreteValuesJson;
  resolution: number | null;
  last: number | null;
  /** ms of the last row with a timestamp; null when none had one. */
  last_time: number | null;
  rows: number;
  episode: EpisodeJson;
  change_episode: EpisodeJson;
  /** Daily and weekly slots (src/detection/season-profile.ts); absent or null without timestamps. */
  season?: SeasonProfileJson | null;
  /** The period the channel is judged against, null when none. */
  seasonal?: SeasonPeriod | null;
  /** Standardised values and changes an operator said are normal (src/detection/normal-bands.ts). */
  normal_bands?: NormalBands;
  /** The last re-learned levels: the episode's time span (ms, null: rows without timestamps) and the move. */
  relearns?: { from: number | null; to: number | null; shift: number }[];
  /** The sustained statistic e: moments, value after the last row (absent: written before it existed). */
  sustained?: { stats: RunningStatsJson; last: number };
}

/** A re-learned level: the episode's first and last row times (NaN: unknown) and how far the center moved. */
export interface Relearn {
  from: number;
  to: number;
  shift: number;
}

export const RELEARNS_KEPT = 16;

/** The learned extras of one channel (of one entity). */
export class ChannelLearning {
  tails = new TwoSidedSketch();
  change = new RunningStats();
  changeTails = new TwoSidedSketch();
  discrete = new DiscreteValues();
  changeDiscrete = new DiscreteValues();
  resolution = Infinity;
  last = NaN;
  lastTime = NaN;
  /** Values seen (rows with a value for this channel), for episodes measured in rows. */
  rows = 0;
  episode = new Episode();
  changeEpisode = new Episode();
  /** Learned from rows with timestamps only. */
  season: SeasonProfile | undefined = undefined;
  period: SeasonPeriod | null = null;
  sustained = new RunningStats();
  sustainedLast = 0;
  /** The last RELEARNS_KEPT level moves, so that an operator's "that was an incident" can undo one. */
  relearns: Relearn[] = [];
  /** From operators' feedback: values near these are neither flagged nor kept out (src/detection/normal-bands.ts). */
  bands: NormalBands = { level: [], change: [] };

  clone(): ChannelLearning {
    const c = new ChannelLearning();
    c.tails = this.tails.clone();
    c.change = this.change.clone();
    c.changeTails = this.changeTails.clone();
    c.discrete = this.discrete.clone();
    c.changeDiscrete = this.changeDiscrete.clone();
    c.resolution = this.resolution;
    c.last = this.last;
    c.lastTime = this.lastTime;
    c.rows = this.rows;
    c.episode = this.episode.clone();
    c.changeEpisode = this.changeEpisode.clone();
    c.season = this.season?.clone();
    c.period = this.period;
    c.sustained = this.sustained.clone();
    c.sustainedLast = this.sustainedLast;
    c.relearns = this.relearns.map((r) => ({ ...r }));
    c.bands = { level: [...this.bands.level], change: [...this.bands.change] };
    return c;
  }

  /** Forgetting, as the moments: everything learned so far weighs `factor` (the season profile forgets in time instead). */
  decay(factor: number): void {
    this.tails.decay(factor);
    this.changeTails.decay(factor);
    this.change.decay(factor);
    this.discrete.decay(factor);
    this.changeDiscrete.decay(factor);
    this.sustained.decay(factor);
  }

  toJSON(): ChannelLearningJson {
    return {
      tails: this.tails.toJSON(),
      change: this.change.toJSON(),
      change_tails: this.changeTails.toJSON(),
      discrete: this.discrete.toJSON(),
      change_discrete: this.changeDiscrete.toJSON(),
      resolution: Number.isFinite(this.resolution) ? this.resolution : null,
      last: Number.isFinite(this.last) ? this.last : null,
      last_time: Number.isFinite(this.lastTime) ? this.lastTime : null,
      rows: this.rows,
      episode: this.episode.toJSON(),
      change_episode: this.changeEpisode.toJSON(),
      season: this.season ? this.season.toJSON() : null,
      seasonal: this.period,
      sustained: { stats: this.sustained.toJSON(), last: this.sustainedLast },
      normal_bands: { level: [...this.bands.level], change: [...this.bands.change] },
      relearns: this.relearns.map((r) => ({ from: Number.isFinite(r.from) ? r.from : null, to: Number.isFinite(r.to) ? r.to : null, shift: r.shift })),
    };
  }

  static fromJSON(json: unknown, where: string): ChannelLearning {
    const o = objectAt(json, where);
    const c = new ChannelLearning();
    try {
      c.tails = TwoSidedSketch.fromJSON(o.tails, `${where}.tails`);
      c.changeTails = TwoSidedSketch.fromJSON(o.change_tails, `${where}.change_tails`);
      c.discrete = DiscreteValues.fromJSON(o.discrete ?? null, `${where}.discrete`);
      c.changeDiscrete = DiscreteValues.fromJSON(o.change_discrete ?? null, `${where}.change_discrete`);
    } catch (err) {
      throw new BaselineFormatError((err as Error).message);
    }
    c.change = stats(o.change, `${where}.change`);
    c.resolution = o.resolution === null ? Infinity : num(o.resolution, `${where}.resolution`, (v) => v > 0);
    c.last = o.last === null ? NaN : num(o.last, `${where}.last`, () => true);
    c.lastTime = o.last_time === null || o.last_time === undefined ? NaN : num(o.last_time, `${where}.last_time`, () => true);
    c.rows = num(o.rows, `${where}.rows`, (v) => v >= 0);
    c.episode = Episode.fromJSON(o.episode, `${where}.episode`);
    c.changeEpisode = Episode.fromJSON(o.change_episode, `${where}.change_episode`);
    if (o.season !== undefined && o.season !== null) {
      try {
        c.season = SeasonProfile.fromJSON(o.season, `${where}.season`);
      } catch (err) {
        throw new BaselineFormatError((err as Error).message);
      }
    }
    if (o.sustained !== undefined) {
      const e = objectAt(o.sustained, `${where}.sustained`);
      c.sustained = stats(e.stats, `${where}.sustained.stats`);
      c.sustainedLast = num(e.last, `${where}.sustained.last`, (v) => Math.abs(v) <= SUSTAINED_CLIP);
    }
    if (o.normal_bands !== undefined) {
      const r = objectAt(o.normal_bands, `${where}.normal_bands`);
      const list = (name: 'level' | 'change') => {
        const a = r[name];
        if (!Array.isArray(a) || a.length > MAX_NORMAL_BANDS) throw new BaselineFormatError(`${where}.normal_bands.${name} must be an array of at most ${MAX_NORMAL_BANDS} numbers`);
        return mergeBands([], a.map((v, i) => num(v, `${where}.normal_bands.${name}[${i}]`, () => true)));
      };
      c.bands = { level: list('level'), change: list('change') };
    }
    if (o.relearns !== undefined) {
      if (!Array.isArray(o.relearns) || o.relearns.length > RELEARNS_KEPT) throw new BaselineFormatError(`${where}.relearns must be an array of at most ${RELEARNS_KEPT}`);
      c.relearns = o.relearns.map((r: unknown, i: number) => {
        const x = objectAt(r, `${where}.relearns[${i}]`);
        const time = (v: unknown, name: string) => (v === null ? NaN : num(v, `${where}.relearns[${i}].${name}`, () => true));
        return { from: time(x.from, 'from'), to: time(x.to, 'to'), shift: num(x.shift, `${where}.relearns[${i}].shift`, () => true) };
      });
    }
    if (o.seasonal !== undefined && o.seasonal !== null) {
      if (o.seasonal !== 'daily' && o.seasonal !== 'weekly') throw new BaselineFormatError(`${where}.seasonal must be "daily", "weekly" or null, got ${JSON.stringify(o.seasonal)}`);
      if (!c.season) throw new BaselineFormatError(`${where}.seasonal is set without a season profile`);
      c.period = o.seasonal;
    }
    return c;
  }
}

function objectAt(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BaselineFormatError(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function num(v: unknown, where: string, ok: (v: number) => boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new BaselineFormatError(`${where} is not a valid number: ${JSON.stringify(v)}`);
  return v;
}

function stats(v: unknown, where: string): RunningStats {
  try {
    return RunningStats.from(v, where);
  } catch (err) {
    throw new BaselineFormatError((err as Error).message);
  }
}
