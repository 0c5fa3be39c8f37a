import { createHash, randomUUID } from 'node:crypto';
import { BaselineSnapshot, ChannelBaseline, ReferenceWindowView } from '../detection/detection.types';
import { ReferenceWindow } from '../detection/reference-window';
import { AbsorbedLedger, DEFAULT_LEDGER_CAPACITY, LedgerJson } from './absorbed-ledger';
import { BaselineFormatError, InvalidContributionError } from './baseline.errors';
import { BatchContribution, BatchSource, LearningDelta } from './batch-contribution';
import type { BaselineConfig } from '../config/app-config';
import { ChannelLearning, ChannelLearningJson, DEFAULT_RELEARN_AFTER, Episode, RelearnAfter, RELEARNS_KEPT, relearnAfterOf, seasonalRelearnAfter } from './channel-learning';
import { ExclusionWindow, ExclusionWindows } from './exclusion-windows';
import { ChannelMap, jsonRecord, setOwn } from './channel-map';
import { RunningStats, RunningStatsJson } from './running-stats';
import { DiscreteValues } from '../detection/discrete-values';
import { mergeBands } from '../detection/normal-bands';
import { SeasonalityMode, SeasonData, SeasonPeriod, SeasonProfile } from '../detection/season-profile';
import { TwoSidedSketch } from '../detection/tail-sketch';

/**
 * The whole learned baseline: per-channel statistics and what is learned beyond them (tails,
 * changes, episodes: ./channel-learning.ts), the isolation forest's reference window and the ledger
 * of absorbed objects. Pure (no framework, no I/O).
 *
 * JSON layout (`state/baseline.json`), the reference app's shape plus one reserved key:
 *
 *   {
 *     "<channel>": { count, mean, M2, std, M3, M4 },   // reference fields first; M3/M4 are ours
 *     ...,
 *     "last_updated": "<ISO-8601>",
 *     "_state": {
 *       "version": 1,
 *       "lineage": "<id>",        // identifies one baseline's history (see below)
 *       "sequence": <int>,         // absorbs applied in that history; orders two copies of it
 *       "entities": { "<entity>": { "<channel>": {...stats} } },   // ENTITY_COLUMN mode only
 *       "reserved_channels": { "<channel>": {...} },  // a channel literally named last_updated/_state
 *       "ledger": { "capacity": 20000, "entries": [["raw/a.csv", "<etag>"], ...] },  // oldest first
 *       "window": <ReferenceWindow JSON> | null,
 *       "learning": {                // tails, changes, resolution, last value, episode per channel
 *         "channels": { "<channel>": {...} },
 *         "entities": { "<entity>": { "<channel>": {...} } }
 *       }
 *     }
 *   }
 *
 * Keys cannot collide: top-level keys other than `last_updated` and `_state` are always plain
 * channels; entity statistics are nested objects (entity, then channel) inside `_state`, so no
 * encoding of "<entity>/<channel>" into one string is needed, and a channel whose name is one of the
 * two reserved words goes to `_state.reserved_channels`.
 *
 * In entity mode the top-level entry of a channel holds everything folded for that channel over all
 * entities (what a reference reader and the summary's `baseline_observation_counts` see); scoring
 * looks up the entity's own entry, and learning beyond the moments (tails, episodes) is per entity.
 *
 * A file written by the reference app (only `{count, mean, M2, std}` per channel and
 * `last_updated`) loads as is: M3/M4 are assumed Gaussian (see RunningStats.from), the ledger and
 * window start empty, and its lineage is a hash of its content, so that a local copy derived from it
 * is recognised as the same history. Version 1 of `_state` (no `learning`; a `level_shift` list
 * from the rule episodes replaced) loads too: the channels start learning their tails from there.
 */

export const DEFAULT_MAX_CHANNELS = 1000;
export const DEFAULT_MAX_ENTITIES = 100_000;

/** Season profiles kept (9 KB each): channels of entities beyond this are not seasonal. */
export const MAX_SEASON_PROFILES = 5000;

export const STATE_KEY = '_state';
export const LAST_UPDATED_KEY = 'last_updated';
export const STATE_VERSION = 2;
/** Older `_state` versions this code reads. */
const READABLE_VERSIONS = new Set([1, STATE_VERSION]);
const RESERVED = new Set([STATE_KEY, LAST_UPDATED_KEY]);

export interface BaselineStateOptions {
  /** BASELINE_MIN_COUNT: a channel is mature (z-scores trusted) from this count on. */
  minCount: number;
  /** BASELINE_INCLUDE_ANOMALIES: fold rejected (flagged) values in too. */
  includeAnomalies: boolean;
  /** BASELINE_HALF_LIFE in observations; undefined = cumulative statistics. */
  halfLife?: number;
  ledgerCapacity?: number;
  /** When an episode is the new normal (src/baseline/channel-learning.ts). */
  relearnAfter?: RelearnAfter;
  /** SEASONALITY: which channels are judged against their time of day or week (default auto). */
  seasonality?: SeasonalityMode;
  /** TIMEZONE of the season slots (default UTC). A profile learned in another zone starts over. */
  timezone?: string;
  /** BASELINE_MAX_CHANNELS / _ENTITIES: a batch that would learn more is refused (bounded memory). */
  maxChannels?: number;
  maxEntities?: number;
  now?: () => Date;
}

export type BaselineEvent =
  | {
      type: 'level-shift';
      channel: string;
      entity?: string;
      before: { count: number; mean: number; std: number };
      after: { count: number; mean: number; std: number };
    }
  | { type: 'window-reset'; reason: string }
  | { type: 'seasonality'; channel: string; from: SeasonPeriod | null; to: SeasonPeriod | null; consistency: number; explained: number }
  | { type: 'relearn-undone'; channel: string; entity?: string; shift: number };

export interface AbsorbResult {
  status: 'absorbed' | 'duplicate';
  /** Things worth a log line (level shifts re-learned, window resets). */
  events: BaselineEvent[];
}

export interface ChannelEntry {
  channel: string;
  entity?: string;
  /** For a seasonal channel, `stats` are of its deseasonalised values (src/detection/season-profile.ts). */
  stats: RunningStats;
  mature: boolean;
  season?: SeasonData;
}

type StatsRecord = Record<string, RunningStatsJson>;

export interface BaselineStateJson {
  [channel: string]: unknown;
  last_updated?: string;
  _state?: {
    version: number;
    lineage: string;
    sequence: number;
    entities?: Record<string, StatsRecord>;
    reserved_channels?: StatsRecord;
    ledger: LedgerJson;
    window: unknown;
    learning?: { channels?: Record<string, ChannelLearningJson>; entities?: Record<string, Record<string, ChannelLearningJson>> };
  };
}

const EMPTY_WINDOW: ReferenceWindowView = Object.freeze({
  columns: Object.freeze([]) as readonly string[],
  size: 0,
  generation: 0,
  row(i: number): never {
    throw new RangeError(`reference window row ${i} out of range (size 0)`);
  },
});

export class BaselineState {
  private stats = new ChannelMap<RunningStats>();
  private learned = new ChannelMap<ChannelLearning>();
  private window: ReferenceWindow | undefined;
  private ledger: AbsorbedLedger;
  private lastUpdated: string | undefined;
  private lineageId: string;
  private seq = 0;
  /** Bumped on every change; the service compares it to decide whether a flush is due. */
  private ver = 0;
  private cached: FrozenSnapshot | undefined;
  /** Operators' incident and maintenance windows: kept in src/feedback's records, not in baseline.json. */
  private exclusionWindows = new ExclusionWindows();
  /** Channels (of entities) with a season profile: bounded by MAX_SEASON_PROFILES. */
  private seasonProfiles = 0;
  private readonly now: () => Date;
  private readonly relearnAfter: RelearnAfter;

  private constructor(readonly options: BaselineStateOptions) {
    validateOptions(options);
    this.now = options.now ?? (() => new Date());
    this.relearnAfter = options.relearnAfter ?? DEFAULT_RELEARN_AFTER;
    this.ledger = new AbsorbedLedger(options.ledgerCapacity ?? DEFAULT_LEDGER_CAPACITY);
    this.lineageId = randomUUID();
  }

  /** The options the service's configuration gives (BASELINE_MIN_COUNT, _INCLUDE_ANOMALIES, _HALF_LIFE, _RELEARN_AFTER, _RELEARN_ROWS). */
  static optionsFrom(config: BaselineConfig): BaselineStateOptions {
    const { minCount, includeAnomalies, halfLife, seasonality, timezone, maxChannels, maxEntities } = config;
    return { minCount, includeAnomalies, halfLife, relearnAfter: relearnAfterOf(config), seasonality, timezone, maxChannels, maxEntities };
  }

  static empty(options: BaselineStateOptions): BaselineState {
    return new BaselineState(options);
  }

  /** Parses and validates a stored `baseline.json`; `where` names it in errors. */
  static parse(text: string, options: BaselineStateOptions, where = 'baseline.json'): BaselineState {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new BaselineFormatError(`${where} is not valid JSON: ${(err as Error).message}`);
    }
    return BaselineState.fromJSON(json, options, where);
  }

  static fromJSON(json: unknown, options: BaselineStateOptions, where = 'baseline.json'): BaselineState {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new BaselineFormatError(`${where} must hold a JSON object {"<channel>": {count, mean, M2, std}, ..., "last_updated": ...}`);
    }
    const o = json as Record<string, unknown>;
    const state = new BaselineState(options);
    for (const [key, value] of Object.entries(o)) {
      if (RESERVED.has(key)) continue;
      state.stats.set(key, undefined, loadStats(value, `${where} "${key}"`));
    }
    if (o[LAST_UPDATED_KEY] !== undefined) {
      const lu = o[LAST_UPDATED_KEY];
      if (typeof lu !== 'string' || Number.isNaN(Date.parse(lu))) {
        throw new BaselineFormatError(`${where} "last_updated" must be an ISO-8601 date string, got ${JSON.stringify(lu)}`);
      }
      state.lastUpdated = lu;
    }
    const s = o[STATE_KEY];
    if (s === undefined) {
      // Written by the reference app: same content, same lineage, whoever loads it.
      state.lineageId = 'ref-' + createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 16);
      return state;
    }
    state.loadInternal(s, `${where} "_state"`);
    return state;
  }

  private loadInternal(s: unknown, at: string): void {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new BaselineFormatError(`${at} must be an object`);
    const st = s as Record<string, unknown>;
    if (typeof st.version !== 'number' || !READABLE_VERSIONS.has(st.version)) {
      throw new BaselineFormatError(`${at}.version must be one of ${[...READABLE_VERSIONS].join(', ')}, got ${JSON.stringify(st.version)} (written by a newer version?)`);
    }
    if (typeof st.lineage !== 'string' || st.lineage === '') throw new BaselineFormatError(`${at}.lineage must be a non-empty string`);
    this.lineageId = st.lineage;
    if (typeof st.sequence !== 'number' || !Number.isInteger(st.sequence) || st.sequence < 0) {
      throw new BaselineFormatError(`${at}.sequence must be an integer >= 0, got ${JSON.stringify(st.sequence)}`);
    }
    this.seq = st.sequence;
    if (st.reserved_channels !== undefined) {
      for (const [channel, value] of Object.entries(objectAt(st.reserved_channels, `${at}.reserved_channels`))) {
        if (!RESERVED.has(channel)) throw new BaselineFormatError(`${at}.reserved_channels may only hold ${[...RESERVED].join(', ')}, got "${channel}"`);
        this.stats.set(channel, undefined, loadStats(value, `${at}.reserved_channels "${channel}"`));
      }
    }
    if (st.entities !== undefined) {
      for (const [entity, channels] of Object.entries(objectAt(st.entities, `${at}.entities`))) {
        for (const [channel, value] of Object.entries(objectAt(channels, `${at}.entities "${entity}"`))) {
          this.stats.set(channel, entity, loadStats(value, `${at}.entities "${entity}" "${channel}"`));
        }
      }
    }
    this.ledger = AbsorbedLedger.fromJSON(st.ledger, `${at}.ledger`, this.options.ledgerCapacity ?? DEFAULT_LEDGER_CAPACITY);
    if (st.window !== null && st.window !== undefined) {
      try {
        this.window = ReferenceWindow.fromJSON(st.window);
      } catch (err) {
        throw new BaselineFormatError(`${at}.window: ${(err as Error).message}`);
      }
    }
    if (st.learning !== undefined) {
      const l = objectAt(st.learning, `${at}.learning`);
      if (l.channels !== undefined) {
        for (const [channel, value] of Object.entries(objectAt(l.channels, `${at}.learning.channels`))) {
          this.learned.set(channel, undefined, ChannelLearning.fromJSON(value, `${at}.learning.channels "${channel}"`));
        }
      }
      if (l.entities !== undefined) {
        for (const [entity, channels] of Object.entries(objectAt(l.entities, `${at}.learning.entities`))) {
          for (const [channel, value] of Object.entries(objectAt(channels, `${at}.learning.entities "${entity}"`))) {
            this.learned.set(channel, entity, ChannelLearning.fromJSON(value, `${at}.learning.entities "${entity}" "${channel}"`));
          }
        }
      }
      for (const { value } of this.learned.entries()) if (value.season) this.seasonProfiles++;
    }
  }

  /** Identifies this baseline's history; two copies with the same lineage are ordered by `sequence`. */
  get lineage(): string {
    return this.lineageId;
  }

  /** Absorbs applied in this lineage. */
  get sequence(): number {
    return this.seq;
  }

  /** Changes since this object was created or loaded (not persisted). */
  get version(): number {
    return this.ver;
  }

  get absorbedCount(): number {
    return this.ledger.size;
  }

  get updatedAt(): string | undefined {
    return this.lastUpdated;
  }

  hasAbsorbed(key: string, etag: string): boolean {
    return this.ledger.has(key, etag);
  }

  lookup(channel: string, entity?: string): RunningStats | undefined {
    return this.stats.get(channel, entity)?.clone();
  }

  isMature(channel: string, entity?: string): boolean {
    return (this.stats.get(channel, entity)?.count ?? 0) >= this.options.minCount;
  }

  /** Every channel (and entity/channel), copies, for reporting. */
  channels(): ChannelEntry[] {
    return this.entriesOf([...this.stats.entries()]);
  }

  /**
   * A page of the report: the plain channels, and up to `limit` entities after `after` in name
   * order, with their channels. Costs the page, not the number of entities (beyond one sorted list
   * of names, kept until an entity is added).
   */
  page(after: string | undefined, limit: number): { channels: ChannelEntry[]; entities: ChannelEntry[]; totalEntities: number; next: string | null } {
    const names = this.sortedEntities();
    let from = 0;
    if (after !== undefined) {
      let lo = 0;
      let hi = names.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (names[mid] <= after) lo = mid + 1;
        else hi = mid;
      }
      from = lo;
    }
    const chosen = names.slice(from, from + limit);
    const plain = [...this.stats.plainEntries()];
    const ofEntities = chosen.flatMap((entity) => [...this.stats.entries(entity)]);
    return {
      channels: this.entriesOf(plain),
      entities: this.entriesOf(ofEntities),
      totalEntities: names.length,
      next: from + limit < names.length ? chosen[chosen.length - 1] : null,
    };
  }

  private sortedNames: { count: number; names: string[] } | undefined;

  private sortedEntities(): string[] {
    if (!this.sortedNames || this.sortedNames.count !== this.stats.entityCount) {
      this.sortedNames = { count: this.stats.entityCount, names: this.stats.entityNames().sort() };
    }
    return this.sortedNames.names;
  }

  private entriesOf(entries: { channel: string; entity?: string; value: RunningStats }[]): ChannelEntry[] {
    return entries.map(({ channel, entity, value }) => {
      const l = this.learned.get(channel, entity);
      return {
        channel,
        ...(entity === undefined ? {} : { entity }),
        stats: value.clone(),
        mature: value.count >= this.options.minCount,
        ...(l?.season && l.period ? { season: l.season.data(l.period) } : {}),
      };
    });
  }

  /** Whether a channel is in an episode (src/baseline/channel-learning.ts), for reporting and tests. */
  inEpisode(channel: string, entity?: string): boolean {
    return this.learned.get(channel, entity)?.episode.active ?? false;
  }

  /**
   * The baseline as it is now, frozen: later absorbs do not change it. Rebuilt only after a change,
   * so taking one per batch costs nothing when nothing was folded in between.
   */
  snapshot(): BaselineSnapshot {
    if (!this.cached) {
      const channels = new ChannelMap<ChannelBaseline>();
      const starts = new ChannelMap<LearningStartData>();
      for (const { channel, entity, value: s } of this.stats.entries()) {
        const l = this.learned.get(channel, entity);
        channels.set(channel, entity, Object.freeze(channelBaseline(s, l)));
        if (l) starts.set(channel, entity, Object.freeze({ rows: l.rows, episode: l.episode.clone(), changeEpisode: l.changeEpisode.clone() }));
      }
      this.cached = new FrozenSnapshot(channels, starts, this.window ? this.window.clone() : EMPTY_WINDOW, this.exclusionWindows);
    }
    return this.cached;
  }

  /**
   * Folds one batch in, exactly once per (key, ETag). All-or-nothing: the contribution is validated
   * before anything changes. Per channel: the old statistics are decayed by 0.5^(n / halfLife) when
   * a half-life is set, the values within their learning limits are merged with those beyond them
   * moved to their limit (or raw, with includeAnomalies), and the learning beyond the moments
   * (tails, changes, resolution, last value, episode) is carried on. A channel whose episode has
   * lasted `relearnAfter` and is a level (one-sided, tight) moves its center there. Then the normal
   * rows go to the reference window, with the moved channels' columns moved too.
   */
  absorb(source: BatchSource, contribution: BatchContribution): AbsorbResult {
    validateSource(source);
    validateContribution(contribution);
    if (this.ledger.has(source.key, source.etag)) return { status: 'duplicate', events: [] };
    this.assertFoldsFinite(contribution);
    this.assertWithinBounds(contribution);

    const events: BaselineEvent[] = [];
    const moved = new Map<string, number>();
    for (const entry of contribution.channels) {
      const { channel, entity } = entry;
      const incoming = this.incoming(entry);
      const season = this.fold(channel, entity, incoming, entry.learning);
      if (season) events.push(season);
      // The channel's all-entities entry follows everything folded, with no learning of its own.
      if (entity !== undefined) this.fold(channel, undefined, incoming, undefined);
      const shift = this.relearn(channel, entity);
      if (shift) {
        events.push({ type: 'level-shift', channel, ...(entity === undefined ? {} : { entity }), before: shift.before, after: shift.after });
        if (entity === undefined) moved.set(channel, shift.after.mean - shift.before.mean);
      }
    }

    if (moved.size > 0 && this.window) this.window = this.window.shifted(moved);
    if (contribution.normalRows.length > 0) this.addToWindow(contribution, events);

    this.ledger.add(source.key, source.etag);
    this.seq++;
    this.lastUpdated = this.now().toISOString();
    this.changed();
    return { status: 'absorbed', events };
  }

  /**
   * An episode that lasted `relearnAfter` and is a level (at least 90 % of its exceedances on one
   * side, their std at most half their distance from the center) is the channel's new normal: the
   * center moves to the episode's mean, the spread and the learned tails stay. Other long episodes
   * (spread on both sides: the channel is wider than learned) need no move: their values are
   * learned at full weight from then on.
   */
  private relearn(channel: string, entity: string | undefined): { before: ReturnType<typeof summary>; after: ReturnType<typeof summary> } | undefined {
    const l = this.learned.get(channel, entity);
    const stats = this.stats.get(channel, entity);
    if (!l || !stats || !l.episode.active) return undefined;
    const e = l.episode;
    const after = l.period ? seasonalRelearnAfter(this.relearnAfter) : this.relearnAfter;
    if (e.progress(l.rows, l.lastTime, after) < 1 || e.values.count < this.options.minCount) return undefined;
    const n = e.upper + e.lower;
    const distance = Math.abs(e.values.mean - stats.mean);
    if (Math.max(e.upper, e.lower) < 0.9 * n || !(distance > 0) || e.values.std > 0.5 * distance) return undefined;
    const before = summary(stats);
    const moved = stats.withMean(e.values.mean);
    this.stats.set(channel, entity, moved);
    l.season?.shift(moved.mean - before.mean);
    // e measured the distance from the old center: from the new one it starts again.
    l.sustainedLast = 0;
    l.relearns = [...l.relearns, { from: e.startTime, to: l.lastTime, shift: moved.mean - before.mean }].slice(-RELEARNS_KEPT);
    l.episode = new Episode();
    return { before, after: summary(moved) };
  }
  /** Windows an operator marked: rows in them are not learned (and, `ignore`, not flagged). */
  get exclusions(): ExclusionWindows {
    return this.exclusionWindows;
  }

  /** Adds (or replaces, by id) a window; it applies to the batches scored from now on. */
  addExclusion(w: ExclusionWindow): void {
    this.exclusionWindows = this.exclusionWindows.with(w);
    this.cached = undefined;
  }

  /**
   * An operator's "this period was an incident": each channel whose level was re-learned from an
   * episode overlapping [from, to] moves back (its season profile and the window's rows with it).
   * Exactly once per `source`, through the ledger, like a fold.
   */
  undoRelearns(source: BatchSource, from: number, to: number): AbsorbResult {
    validateSource(source);
    if (this.ledger.has(source.key, source.etag)) return { status: 'duplicate', events: [] };
    const events: BaselineEvent[] = [];
    const moved = new Map<string, number>();
    for (const { channel, entity, value: l } of this.learned.entries()) {
      const stats = this.stats.get(channel, entity);
      if (!stats) continue;
      const undone = l.relearns.filter((r) => r.from <= to && r.to >= from);
      if (undone.length === 0) continue;
      const shift = undone.reduce((sum, r) => sum + r.shift, 0);
      this.stats.set(channel, entity, stats.withMean(stats.mean - shift));
      l.season?.shift(-shift);
      l.sustainedLast = 0;
      l.relearns = l.relearns.filter((r) => !undone.includes(r));
      events.push({ type: 'relearn-undone', channel, ...(entity === undefined ? {} : { entity }), shift: -shift });
      if (entity === undefined) moved.set(channel, -shift);
    }
    if (moved.size > 0 && this.window) this.window = this.window.shifted(moved);
    this.ledger.add(source.key, source.etag);
    this.seq++;
    this.lastUpdated = this.now().toISOString();
    this.changed();
    return { status: 'absorbed', events };
  }

  /**
   * All-or-nothing also against overflow: values so large that a merged moment becomes infinite
   * would be written as `null` and make both baseline copies unloadable. Checked on copies before
   * anything changes.
   */
  private assertFoldsFinite(contribution: BatchContribution): void {
    const check = (channel: string, entity: string | undefined, incoming: RunningStats) => {
      const merged = (this.stats.get(channel, entity)?.clone() ?? new RunningStats()).merge(incoming);
      if (!merged.isFinite() || !incoming.isFinite()) {
        const who = entity === undefined ? `"${channel}"` : `"${channel}" of entity "${entity}"`;
        throw new InvalidContributionError(`folding this batch would overflow the statistics of ${who} (values too large to accumulate)`);
      }
    };
    for (const entry of contribution.channels) {
      const incoming = this.incoming(entry);
      check(entry.channel, entry.entity, incoming);
      if (entry.entity !== undefined) check(entry.channel, undefined, incoming);
      if (!entry.rejected.isFinite()) check(entry.channel, entry.entity, entry.rejected);
      const change = entry.learning?.change;
      if (change && !(change.isFinite() && (this.learned.get(entry.channel, entry.entity)?.change.clone() ?? new RunningStats()).merge(change).isFinite())) {
        throw new InvalidContributionError(`folding this batch would overflow the change statistics of "${entry.channel}"`);
      }
    }
  }

  /**
   * Every channel and entity learned is kept for good: a stream of files with new column names (or
   * hosts) would grow memory and every save without end. A batch that would pass a bound is
   * refused whole, before anything changes, saying which bound and what to do.
   */
  private assertWithinBounds(contribution: BatchContribution): void {
    const maxChannels = this.options.maxChannels ?? DEFAULT_MAX_CHANNELS;
    const maxEntities = this.options.maxEntities ?? DEFAULT_MAX_ENTITIES;
    const channels = new Set<string>();
    const entities = new Set<string>();
    for (const e of contribution.channels) {
      if (!this.stats.get(e.channel)) channels.add(e.channel);
      if (e.entity !== undefined && !this.stats.hasEntity(e.entity)) entities.add(e.entity);
    }
    const sample = (s: Set<string>) => [...s].slice(0, 3).map((x) => JSON.stringify(x)).join(', ') + (s.size > 3 ? ', …' : '');
    if (this.stats.plainCount + channels.size > maxChannels) {
      throw new InvalidContributionError(
        `this batch would add ${channels.size} channel(s) (${sample(channels)}) to the ${this.stats.plainCount} learned, more than BASELINE_MAX_CHANNELS=${maxChannels}: ` +
          'name the channels to learn with CHANNELS, or raise the limit',
      );
    }
    if (this.stats.entityCount + entities.size > maxEntities) {
      throw new InvalidContributionError(
        `this batch would add ${entities.size} entit(ies) (${sample(entities)}) to the ${this.stats.entityCount} learned, more than BASELINE_MAX_ENTITIES=${maxEntities}: raise the limit, or check ENTITY_COLUMN`,
      );
    }
  }

  private incoming(entry: BatchContribution['channels'][number]): RunningStats {
    const beyond = this.options.includeAnomalies ? entry.rejected : entry.winsorised;
    return beyond && beyond.count > 0 ? entry.accepted.clone().merge(beyond) : entry.accepted;
  }

  private fold(channel: string, entity: string | undefined, incoming: RunningStats, learning: LearningDelta | undefined): BaselineEvent | undefined {
    if (incoming.count > 0) {
      let stats = this.stats.get(channel, entity);
      if (!stats) this.stats.set(channel, entity, (stats = new RunningStats()));
      const forget = this.options.halfLife !== undefined && stats.count > 0 ? Math.pow(0.5, incoming.count / this.options.halfLife) : 1;
      if (forget < 1) {
        stats.decay(forget);
        this.learned.get(channel, entity)?.decay(forget);
      }
      // Normalized so the in-memory state and its reload from baseline.json fold identically.
      stats.merge(incoming).normalize();
    }
    if (!learning) return undefined;
    let l = this.learned.get(channel, entity);
    if (!l) this.learned.set(channel, entity, (l = new ChannelLearning()));
    const elapsed = learning.time - l.lastTime;
    l.tails.merge(learning.tails);
    l.changeTails.merge(learning.changeTails);
    l.discrete.merge(learning.discrete);
    l.changeDiscrete.merge(learning.changeDiscrete);
    l.change.merge(learning.change).normalize();
    l.resolution = Math.min(l.resolution, learning.resolution);
    l.last = learning.last;
    l.rows = learning.rows;
    if (learning.time === learning.time) l.lastTime = learning.time;
    l.episode = learning.episode.clone();
    l.changeEpisode = learning.changeEpisode.clone();
    if (learning.bands) l.bands = { level: mergeBands(l.bands.level, learning.bands.level), change: mergeBands(l.bands.change, learning.bands.change) };
    if (learning.sustained) {
      l.sustained.merge(learning.sustained.stats).normalize();
      l.sustainedLast = learning.sustained.last;
    }
    return learning.season ? this.foldSeason(channel, entity, l, learning.season, elapsed) : undefined;
  }

  /**
   * Merges the batch's slots into the channel's profile (aged by the time since the last batch) and
   * decides the period it is judged against. When that changes, what was learned on the values as
   * they were measured no longer fits: the tails and the list of values start over and the variance
   * becomes the profile's spread around the new expectation (within the slots, or around the
   * overall mean when the channel stops being seasonal), so that no batch floods or goes blind in
   * between.
   */
  private foldSeason(channel: string, entity: string | undefined, l: ChannelLearning, season: SeasonProfile, elapsed: number): BaselineEvent | undefined {
    const timezone = this.options.timezone ?? 'UTC';
    if (season.timezone !== timezone) return undefined;
    if (!l.season || l.season.timezone !== timezone) {
      if (!l.season && this.seasonProfiles >= MAX_SEASON_PROFILES) return undefined;
      if (!l.season) this.seasonProfiles++;
      l.season = new SeasonProfile(timezone);
      l.period = null;
    }
    l.season.age(elapsed).merge(season);
    const stats = this.stats.get(channel, entity);
    if (!stats || stats.count < this.options.minCount) return undefined;
    const fit = l.season.seasonality(this.options.seasonality ?? 'auto', l.period);
    if (fit.period === l.period) return undefined;
    const from = l.period;
    const variance = fit.period === null ? (from === null ? NaN : fit[from].total) : fit[fit.period].within;
    l.period = fit.period;
    if (variance === variance) this.stats.set(channel, entity, stats.withVariance(variance));
    l.tails = new TwoSidedSketch();
    l.discrete = new DiscreteValues();
    l.sustainedLast = 0;
    const shown = fit[fit.period ?? from ?? 'daily'];
    return { type: 'seasonality', channel, from, to: fit.period, consistency: shown.consistency, explained: shown.explained };
  }

  private addToWindow(contribution: BatchContribution, events: BaselineEvent[]): void {
    const columns = contribution.windowColumns;
    let order: number[] | undefined;
    if (this.window && sameSet(this.window.columns, columns)) {
      // Same channels, maybe another column order in this file: map by name.
      const index = new Map(columns.map((c, i) => [c, i]));
      const mapping = this.window.columns.map((c) => index.get(c)!);
      if (mapping.some((j, i) => j !== i)) order = mapping;
    } else {
      const previous = this.window;
      this.window = freshWindow(columns, previous ? previous.generation + 1 : 0);
      if (previous && (previous.size > 0 || previous.pendingSize > 0)) {
        events.push({ type: 'window-reset', reason: `channels changed from [${previous.columns.join(', ')}] to [${columns.join(', ')}]` });
      }
    }
    for (const row of contribution.normalRows) {
      const values = order ? order.map((j) => row.values[j]) : row.values;
      this.window!.add(values, row.entity);
    }
  }

  private changed(): void {
    this.ver++;
    this.cached = undefined;
  }

  toJSON(): BaselineStateJson {
    return this.buildJson(false);
  }

  /**
   * `forText`: the window's rows and the ledger's entries are left out (`serialize` splices in the
   * texts both keep between changes), so a save does not rebuild thousands of arrays to drop them.
   */
  private buildJson(forText: boolean): BaselineStateJson {
    const out = jsonRecord<unknown>() as BaselineStateJson;
    const reserved = jsonRecord<RunningStatsJson>();
    const entities = jsonRecord<StatsRecord>();
    for (const { channel, entity, value } of this.stats.entries()) {
      if (entity !== undefined) {
        if (!Object.prototype.hasOwnProperty.call(entities, entity)) setOwn(entities, entity, jsonRecord<RunningStatsJson>());
        setOwn<RunningStatsJson>(entities[entity], channel, value.toJSON());
      } else if (RESERVED.has(channel)) {
        setOwn(reserved, channel, value.toJSON());
      } else {
        setOwn(out as Record<string, unknown>, channel, value.toJSON());
      }
    }
    out.last_updated = this.lastUpdated ?? this.now().toISOString();
    out._state = {
      version: STATE_VERSION,
      lineage: this.lineageId,
      sequence: this.seq,
      ...(Object.keys(entities).length > 0 ? { entities } : {}),
      ...(Object.keys(reserved).length > 0 ? { reserved_channels: reserved } : {}),
      ledger: forText ? { capacity: this.ledger.capacity, entries: [] } : this.ledger.toJSON(),
      window: this.window ? this.window.toJSONRows(!forText) : null,
      ...this.learningJson(),
    };
    return out;
  }

  private learningJson(): { learning?: NonNullable<BaselineStateJson['_state']>['learning'] } {
    const channels = jsonRecord<ChannelLearningJson>();
    const entities = jsonRecord<Record<string, ChannelLearningJson>>();
    let any = false;
    for (const { channel, entity, value } of this.learned.entries()) {
      any = true;
      if (entity === undefined) {
        setOwn(channels, channel, value.toJSON());
      } else {
        if (!Object.prototype.hasOwnProperty.call(entities, entity)) setOwn(entities, entity, jsonRecord<ChannelLearningJson>());
        setOwn(entities[entity], channel, value.toJSON());
      }
    }
    if (!any) return {};
    return { learning: { channels, ...(Object.keys(entities).length > 0 ? { entities } : {}) } };
  }

  /** The stored form. Same text as JSON.stringify(toJSON()), with the window's rows spliced in from its cache. */
  serialize(): string {
    const json = this.buildJson(true);
    const state = json._state as { ledger: { entries: unknown }; window: { rows: unknown } | null };
    state.ledger.entries = ENTRIES_MARKER;
    if (state.window) state.window.rows = ROWS_MARKER;
    const text = JSON.stringify(json);
    const entries = JSON.stringify(ENTRIES_MARKER);
    const rows = JSON.stringify(ROWS_MARKER);
    // Each marker must stand exactly once, and in that order; a channel or entity name equal to
    // one would break that: then the plain way, slower but exact.
    const e = text.indexOf(entries);
    const r = state.window ? text.indexOf(rows) : -1;
    const once = (at: number, m: string) => at >= 0 && text.indexOf(m, at + 1) < 0;
    if (!once(e, entries) || (state.window && !(once(r, rows) && r > e))) return JSON.stringify(this.toJSON());
    const head = text.slice(0, e) + this.ledger.entriesText();
    if (!state.window) return head + text.slice(e + entries.length);
    return head + text.slice(e + entries.length, r) + this.window!.committedRowsText() + text.slice(r + rows.length);
  }
}

/**
 * Stand for the ledger's entries and the window's rows while the rest of the state is stringified;
 * `serialize` splices their cached texts in.
 */
const ROWS_MARKER = '\u0000window-rows\u0000';
const ENTRIES_MARKER = '\u0000ledger-entries\u0000';

/** Where a channel's learning stood, for a batch that continues it (src/processing/contribution-builder.ts). */
export interface LearningStartData {
  rows: number;
  episode: Episode;
  changeEpisode: Episode;
}

class FrozenSnapshot implements BaselineSnapshot {
  constructor(
    private readonly channels: ChannelMap<ChannelBaseline>,
    private readonly starts: ChannelMap<LearningStartData>,
    readonly window: ReferenceWindowView,
    readonly exclusions: ExclusionWindows,
  ) {}

  lookup(channel: string, entity?: string): ChannelBaseline | undefined {
    return this.channels.get(channel, entity);
  }

  learningStart(channel: string, entity?: string): LearningStartData | undefined {
    return this.starts.get(channel, entity);
  }

  channelNames(): string[] {
    const names: string[] = [];
    for (const { channel, entity } of this.channels.entries()) if (entity === undefined) names.push(channel);
    return names;
  }
}

/** What detection reads of a channel: the moments and, once learned, the tails, changes, resolution and last value. */
function channelBaseline(s: RunningStats, l: ChannelLearning | undefined): ChannelBaseline {
  const b = momentsAndLearning(s, l);
  if (l?.season && l.period) b.season = l.season.data(l.period);
  return b;
}

function momentsAndLearning(s: RunningStats, l: ChannelLearning | undefined): ChannelBaseline {
  const b: ChannelBaseline = { count: s.count, mean: s.mean, std: s.std, skewness: s.skewness, kurtosis: s.kurtosis };
  if (!l) return b;
  b.tails = l.tails.clone();
  if (l.discrete.discrete) b.discrete = { values: l.discrete.values, weights: l.discrete.weights };
  if (l.change.count > 0) {
    const change: NonNullable<ChannelBaseline['change']> = { count: l.change.count, mean: l.change.mean, std: l.change.std, tails: l.changeTails.clone() };
    if (l.changeDiscrete.discrete) change.discrete = { values: l.changeDiscrete.values, weights: l.changeDiscrete.weights };
    b.change = change;
  }
  if (Number.isFinite(l.resolution)) b.resolution = l.resolution;
  b.sustained = { count: l.sustained.count, mean: l.sustained.mean, std: l.sustained.std, last: l.sustainedLast };
  if (l.bands.level.length > 0 || l.bands.change.length > 0) b.bands = { level: [...l.bands.level], change: [...l.bands.change] };
  if (Number.isFinite(l.last)) b.last = l.last;
  return b;
}

function summary(s: RunningStats) {
  return { count: s.count, mean: s.mean, std: s.std };
}

function loadStats(value: unknown, where: string): RunningStats {
  try {
    return RunningStats.from(value, where);
  } catch (err) {
    throw new BaselineFormatError((err as Error).message);
  }
}

function objectAt(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BaselineFormatError(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((c) => set.has(c));
}

/** A new empty window whose generation continues the old one's, so a forest cached by generation is never reused for it. */
function freshWindow(columns: string[], generation: number): ReferenceWindow {
  const w = new ReferenceWindow(columns);
  return generation === 0 ? w : ReferenceWindow.fromJSON({ ...w.toJSON(), generation });
}

function validateOptions(o: BaselineStateOptions): void {
  if (!(Number.isFinite(o.minCount) && o.minCount >= 0)) throw new RangeError(`minCount must be a number >= 0, got ${o.minCount}`);
  if (o.halfLife !== undefined && !(Number.isFinite(o.halfLife) && o.halfLife > 0)) {
    throw new RangeError(`halfLife must be a number > 0 when set, got ${o.halfLife}`);
  }
}

function validateSource(source: BatchSource): void {
  if (!source || typeof source.key !== 'string' || source.key === '' || source.key.includes('\0')) {
    throw new InvalidContributionError(`source.key must be a non-empty object key, got ${JSON.stringify(source?.key)}`);
  }
  if (typeof source.etag !== 'string') throw new InvalidContributionError(`source.etag must be a string for ${source.key}`);
}

function validateContribution(c: BatchContribution): void {
  if (!c || !Array.isArray(c.channels) || !Array.isArray(c.normalRows) || !Array.isArray(c.windowColumns)) {
    throw new InvalidContributionError('contribution must have channels, normalRows and windowColumns arrays');
  }
  const seen = new ChannelMap<true>();
  for (const [i, e] of c.channels.entries()) {
    if (typeof e.channel !== 'string' || e.channel === '') throw new InvalidContributionError(`channels[${i}].channel must be a non-empty string`);
    if (e.entity !== undefined && typeof e.entity !== 'string') throw new InvalidContributionError(`channels[${i}].entity must be a string when set`);
    if (seen.get(e.channel, e.entity)) {
      throw new InvalidContributionError(`channels[${i}]: "${e.channel}"${e.entity === undefined ? '' : ` of entity "${e.entity}"`} appears twice`);
    }
    seen.set(e.channel, e.entity, true);
    for (const part of ['accepted', 'rejected'] as const) {
      const s = e[part];
      if (!(s instanceof RunningStats)) throw new InvalidContributionError(`channels[${i}].${part} must be a RunningStats`);
      if (![s.count, s.mean, s.m2, s.m3, s.m4].every(Number.isFinite) || s.count < 0 || s.m2 < 0) {
        throw new InvalidContributionError(`channels[${i}].${part} holds non-finite or negative statistics`);
      }
    }
  }
  const width = c.windowColumns.length;
  if (c.normalRows.length > 0) {
    if (width === 0 || new Set(c.windowColumns).size !== width) {
      throw new InvalidContributionError('windowColumns must be distinct channel names when normalRows are given');
    }
    c.normalRows.forEach((r, i) => {
      if (!r || r.values?.length !== width) throw new InvalidContributionError(`normalRows[${i}] must hold ${width} values`);
    });
  }
}
