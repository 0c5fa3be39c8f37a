import { BatchContribution } from '../baseline/batch-contribution';
import { RunningStats } from '../baseline/running-stats';
import { RowScore } from '../detection/detection.types';
import { BadInputError } from './bad-input.error';

/** Per entity, the statistics kept for one batch: the bound keeps a hostile file from growing memory. */
export const MAX_ENTITIES_PER_BATCH = 10000;

interface EntityStats {
  accepted: RunningStats[];
  rejected: RunningStats[];
}

/**
 * Collects, while a batch is scored, what it will give the baseline: per channel (and entity) the
 * statistics of values the detector accepted and of those it flagged, and the last normal rows for
 * the isolation forest's reference window. Memory is bounded: a few numbers per channel and entity,
 * and a ring of `windowCapacity` rows.
 */
export class ContributionBuilder {
  private readonly byEntity = new Map<string | undefined, EntityStats>();
  private readonly ring: Float64Array;
  private readonly ringEntities: (string | undefined)[];
  private ringNext = 0;
  private ringSize = 0;
  private lastEntity: string | undefined;
  private lastStats: EntityStats | null = null;

  constructor(
    private readonly channels: readonly string[],
    private readonly windowCapacity = 2048,
  ) {
    this.ring = new Float64Array(Math.max(1, windowCapacity) * channels.length);
    this.ringEntities = new Array(windowCapacity);
  }

  /** One scored row: its values are `values[offset, offset + channels)`. */
  add(values: Float64Array, offset: number, entity: string | undefined, score: RowScore, line: number): void {
    const stats = entity === this.lastEntity && this.lastStats !== null ? this.lastStats : this.statsOf(entity, line);
    const k = this.channels.length;
    for (let c = 0; c < k; c++) {
      const v = values[offset + c];
      if (v !== v) continue; // NaN: missing, in neither
      if (score.channelAnomalous[c] === 1) stats.rejected[c].push(v);
      else stats.accepted[c].push(v);
    }
    if (score.scorable && !score.anomaly && this.windowCapacity > 0) {
      const at = this.ringNext * k;
      for (let c = 0; c < k; c++) this.ring[at + c] = values[offset + c];
      this.ringEntities[this.ringNext] = entity;
      this.ringNext = (this.ringNext + 1) % this.windowCapacity;
      if (this.ringSize < this.windowCapacity) this.ringSize++;
    }
  }

  /** Observations accepted into the baseline per channel, over all entities. */
  acceptedCounts(): number[] {
    const out = this.channels.map(() => 0);
    for (const s of this.byEntity.values()) s.accepted.forEach((a, c) => (out[c] += a.count));
    return out;
  }

  get entities(): (string | undefined)[] {
    return [...this.byEntity.keys()];
  }

  build(): BatchContribution {
    const k = this.channels.length;
    const channels: BatchContribution['channels'] = [];
    for (const [entity, s] of this.byEntity) {
      for (let c = 0; c < k; c++) {
        if (s.accepted[c].count === 0 && s.rejected[c].count === 0) continue;
        const entry: BatchContribution['channels'][number] = {
          channel: this.channels[c],
          accepted: s.accepted[c],
          rejected: s.rejected[c],
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

  private statsOf(entity: string | undefined, line: number): EntityStats {
    let s = this.byEntity.get(entity);
    if (s === undefined) {
      if (this.byEntity.size >= MAX_ENTITIES_PER_BATCH) {
        throw new BadInputError(`more than ${MAX_ENTITIES_PER_BATCH} distinct entities in one batch`, line);
      }
      s = {
        accepted: this.channels.map(() => new RunningStats()),
        rejected: this.channels.map(() => new RunningStats()),
      };
      this.byEntity.set(entity, s);
    }
    this.lastEntity = entity;
    this.lastStats = s;
    return s;
  }
}
