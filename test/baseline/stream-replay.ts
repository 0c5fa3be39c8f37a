/**
 * Replays a generated sensor stream through BaselineState with the real detector's per-value
 * verdicts and the pipeline's learner (learnedContribution: no forest, no joint test), to measure
 * what the baseline's own rules do: how fast flags stop after a level shift, what the half-life
 * changes on a drifting stream.
 *
 *   npx ts-node --transpile-only test/baseline/stream-replay.ts
 */
import { BaselineState, BaselineStateOptions } from '../../src/baseline/baseline-state';
import { DEFAULT_RELEARN_AFTER } from '../../src/baseline/channel-learning';
import { createRng } from '../../src/detection/seeded-random';
import { BatchProfile, generateBatch, LEVEL_SHIFT_AT } from '../../src/producer/batch-generator';
import { learnedContribution } from './contribution-builder';

export interface BatchFigures {
  batch: number;
  /** Values flagged that were not injected, per channel. */
  falseFlags: Record<string, number>;
  /** Injected anomalies, and how many of them were flagged, per channel. */
  injected: Record<string, number>;
  caught: Record<string, number>;
  events: string[];
  means: Record<string, number>;
}

export function replayStream(profile: BatchProfile, options: Partial<BaselineStateOptions> = {}, batches = 200, seed = 42): BatchFigures[] {
  const rng = createRng(seed);
  const state = BaselineState.empty({ minCount: 30, includeAnomalies: false, relearnAfter: DEFAULT_RELEARN_AFTER, ...options });
  const out: BatchFigures[] = [];
  const start = Date.parse('2026-02-24T00:10:51Z');
  for (let b = 0; b < batches; b++) {
    const batch = generateBatch({ rows: 100, start: new Date(start + b * 100 * 60_000), rng, profile, batchIndex: b });
    const lines = batch.csv.trim().split('\n');
    const columns = lines[0].split(',').slice(1);
    const rows = lines.slice(1).map((l) => l.split(',').slice(1).map(Number));
    const learned = learnedContribution(state.snapshot(), columns, rows, { minCount: 30, time0: start + b * 100 * 60_000, relearnAfter: options.relearnAfter });
    const flagged = learned.channelFlags.map((f) => Array.from(f, (x) => x === 1));
    const figures: BatchFigures = { batch: b, falseFlags: {}, injected: {}, caught: {}, events: [], means: {} };
    const truth = new Set(batch.truth.map((t) => `${t.row}/${t.channel}`));
    columns.forEach((ch, c) => {
      figures.falseFlags[ch] = rows.filter((_, r) => flagged[r][c] && !truth.has(`${r}/${ch}`)).length;
      figures.injected[ch] = batch.truth.filter((t) => t.channel === ch).length;
      figures.caught[ch] = batch.truth.filter((t) => t.channel === ch && flagged[t.row][c]).length;
    });
    const result = state.absorb({ key: `raw/${profile}-${b}.csv`, etag: 'e' }, learned.contribution);
    figures.events = result.events.map((e) => (e.type === 'level-shift' ? `level-shift ${e.channel}` : `window-reset`));
    columns.forEach((ch) => (figures.means[ch] = state.lookup(ch)!.mean));
    out.push(figures);
  }
  return out;
}

if (require.main === module) {
  const shift = replayStream('level-shift');
  const after = shift.filter((f) => f.batch >= LEVEL_SHIFT_AT);
  const flaggedBatches = after.filter((f) => f.falseFlags.pressure > 5).map((f) => f.batch);
  console.log(`level-shift stream (pressure +6 std from batch ${LEVEL_SHIFT_AT}):`);
  console.log(`  events: ${shift.flatMap((f) => f.events.map((e) => `${e}@${f.batch}`)).join(', ')}`);
  console.log(`  batches after the shift with > 5 false pressure flags: ${flaggedBatches.join(', ') || 'none'}`);
  const tail = after.filter((f) => f.batch > Math.max(...flaggedBatches, LEVEL_SHIFT_AT));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  console.log(
    `  after that: false pressure flags ${sum(tail.map((f) => f.falseFlags.pressure))} in ${tail.length * 100} values; ` +
      `injected pressure anomalies caught ${sum(tail.map((f) => f.caught.pressure))}/${sum(tail.map((f) => f.injected.pressure))}`,
  );
  for (const halfLife of [undefined, 2000, 500]) {
    const drift = replayStream('drift', { halfLife });
    const last = drift[drift.length - 1];
    const fp = sum(drift.map((f) => sum(Object.values(f.falseFlags))));
    const caught = sum(drift.map((f) => sum(Object.values(f.caught))));
    const injected = sum(drift.map((f) => sum(Object.values(f.injected))));
    // True means at the last batch: 0.01 std per batch over 199 batches.
    const truth = { temperature: 22 + 1.99 * 1.5, pressure: 1013 + 1.99 * 3 };
    console.log(
      `drift stream, half-life ${halfLife ?? 'off'}: final mean lag temperature ${(truth.temperature - last.means.temperature).toFixed(3)} ` +
        `pressure ${(truth.pressure - last.means.pressure).toFixed(3)}; false flags ${fp}/80000 values; recall ${caught}/${injected}`,
    );
  }
}
