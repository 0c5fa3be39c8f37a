import { BaselineFormatError } from './baseline.errors';
import { ChannelMap } from './channel-map';
import { RunningStats } from './running-stats';

/**
 * Recognises a persistent change of level, so that a baseline which refuses every value of a new
 * regime (anomalies are not folded in) does not flag every row forever.
 *
 * The rule, per channel (per entity and channel in entity mode), looking at each batch's values
 * split into accepted (not flagged) and rejected (flagged):
 *
 * 1. A batch is *shift evidence* when at least `minRejectedShare` (half) of the channel's values in
 *    it were rejected, and the rejected values sit together on one side of the baseline mean: their
 *    own std is at most `maxSpreadRatio` (0.5) times their distance from the baseline mean. Isolated
 *    spikes fail the share test; spikes on both sides fail the spread test (their mean lands near
 *    the baseline and their spread is wide).
 * 2. Consecutive evidence batches on the same side accumulate; the pooled rejected values must stay
 *    consistent by the same spread test (a level, not a wandering trend of outliers), otherwise the
 *    count restarts from the current batch. A batch that is not evidence resets the channel; a batch
 *    without values for the channel leaves it as it is.
 * 3. After `batches` (3) evidence batches holding at least `minObservations` rejected values (the
 *    maturity count, so the new baseline is usable at once), the channel re-learns: its statistics
 *    are replaced by those of the pooled rejected values, with their weight capped at
 *    `minObservations`, and the caller clears the reference window (its rows belong to the old
 *    regime). The cap keeps the re-learned baseline mature but light: the pooled values may hold a
 *    few genuine spikes (inflating the std) and, for a shift only just beyond the threshold, only
 *    the far part of the new regime (mean biased away from the old level, std too small); the next
 *    batches, folded as usual, outweigh both within a batch or two.
 *
 * Consequences, accepted on purpose: flags stop at most `batches` batches after a shift big enough
 * to be flagged for most values (smaller shifts are mostly accepted and move the baseline by
 * themselves); a sensor stuck at one wrong value for that long becomes the new normal, and recovery
 * is then itself a shift that re-learns the same way.
 */
export interface LevelShiftRule {
  batches: number;
  minRejectedShare: number;
  maxSpreadRatio: number;
  minObservations: number;
}

export const DEFAULT_LEVEL_SHIFT_RULE: LevelShiftRule = {
  batches: 3,
  minRejectedShare: 0.5,
  maxSpreadRatio: 0.5,
  minObservations: 30,
};

interface Candidate {
  side: 1 | -1;
  batches: number;
  rejected: RunningStats;
}

export interface LevelShiftJson {
  channel: string;
  entity?: string;
  side: 1 | -1;
  batches: number;
  rejected: ReturnType<RunningStats['toJSON']>;
}

export class LevelShiftTracker {
  private readonly candidates = new ChannelMap<Candidate>();

  constructor(readonly rule: LevelShiftRule = DEFAULT_LEVEL_SHIFT_RULE) {}

  /**
   * Feeds one batch's split for a channel, given the channel's baseline before this batch.
   * Returns the statistics to re-learn from when the rule fires, else undefined. Mutates only the
   * tracker; the caller applies the result.
   */
  observe(
    channel: string,
    entity: string | undefined,
    baseline: RunningStats | undefined,
    accepted: RunningStats,
    rejected: RunningStats,
  ): RunningStats | undefined {
    const n = accepted.count + rejected.count;
    if (n === 0) return undefined;
    const side = this.evidenceSide(baseline, rejected, n);
    if (side === 0 || !baseline) {
      this.candidates.delete(channel, entity);
      return undefined;
    }
    const previous = this.candidates.get(channel, entity);
    let candidate: Candidate = { side, batches: 1, rejected: rejected.clone() };
    if (previous && previous.side === side) {
      const pooled = previous.rejected.clone().merge(rejected);
      if (this.isTight(pooled, baseline)) candidate = { side, batches: previous.batches + 1, rejected: pooled };
    }
    if (candidate.batches >= this.rule.batches && candidate.rejected.count >= this.rule.minObservations) {
      this.candidates.delete(channel, entity);
      return candidate.rejected.capWeight(this.rule.minObservations);
    }
    this.candidates.set(channel, entity, candidate);
    return undefined;
  }

  /** How many evidence batches are pending for a channel (0 when none); for reporting and tests. */
  pending(channel: string, entity?: string): number {
    return this.candidates.get(channel, entity)?.batches ?? 0;
  }

  clone(): LevelShiftTracker {
    const t = new LevelShiftTracker(this.rule);
    for (const { channel, entity, value } of this.candidates.entries()) {
      t.candidates.set(channel, entity, { ...value, rejected: value.rejected.clone() });
    }
    return t;
  }

  private evidenceSide(baseline: RunningStats | undefined, rejected: RunningStats, n: number): 0 | 1 | -1 {
    if (!baseline || baseline.count === 0 || rejected.count === 0) return 0;
    if (rejected.count / n < this.rule.minRejectedShare) return 0;
    if (!this.isTight(rejected, baseline)) return 0;
    return rejected.mean > baseline.mean ? 1 : -1;
  }

  private isTight(values: RunningStats, baseline: RunningStats): boolean {
    const distance = Math.abs(values.mean - baseline.mean);
    return distance > 0 && values.std <= this.rule.maxSpreadRatio * distance;
  }

  toJSON(): LevelShiftJson[] {
    const out: LevelShiftJson[] = [];
    for (const { channel, entity, value } of this.candidates.entries()) {
      out.push({
        channel,
        ...(entity === undefined ? {} : { entity }),
        side: value.side,
        batches: value.batches,
        rejected: value.rejected.toJSON(),
      });
    }
    return out;
  }

  static fromJSON(json: unknown, where: string, rule: LevelShiftRule = DEFAULT_LEVEL_SHIFT_RULE): LevelShiftTracker {
    if (!Array.isArray(json)) throw new BaselineFormatError(`${where} must be an array`);
    const t = new LevelShiftTracker(rule);
    json.forEach((e: unknown, i: number) => {
      const at = `${where}[${i}]`;
      if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new BaselineFormatError(`${at} must be an object`);
      const o = e as Record<string, unknown>;
      if (typeof o.channel !== 'string' || o.channel === '') throw new BaselineFormatError(`${at}.channel must be a non-empty string`);
      if (o.entity !== undefined && typeof o.entity !== 'string') throw new BaselineFormatError(`${at}.entity must be a string when present`);
      if (o.side !== 1 && o.side !== -1) throw new BaselineFormatError(`${at}.side must be 1 or -1, got ${JSON.stringify(o.side)}`);
      if (typeof o.batches !== 'number' || !Number.isInteger(o.batches) || o.batches < 1) {
        throw new BaselineFormatError(`${at}.batches must be an integer >= 1, got ${JSON.stringify(o.batches)}`);
      }
      let rejected: RunningStats;
      try {
        rejected = RunningStats.from(o.rejected, `${at}.rejected`);
      } catch (err) {
        throw new BaselineFormatError((err as Error).message);
      }
      t.candidates.set(o.channel, o.entity as string | undefined, { side: o.side, batches: o.batches, rejected });
    });
    return t;
  }
}
