/**
 * How fast an operator's "this kind of value is normal" takes effect, measured through the real
 * pipeline: the reference stream, plus every HEATER_EVERY batches (from batch 2) HEATER_ROWS rows
 * where temperature is a heater's 37-38.5 degC (10-11 of its sds, beyond the stream's anomalies at 5-8:
 * a rare class of value the operator
 * knows is fine; too rare to become the channel's normal tail by itself). Replayed twice: without
 * feedback, and with the first heater batch's flagged heater rows marked normal (as POST /feedback
 * does: src/feedback/normal-feedback.ts, folded once through the baseline's ledger). Reported per
 * heater batch: the heater rows flagged, and the true anomalies' F1 (both runs), so that what else
 * changes shows.
 */
import { createRng, randomInt, uniform } from '../../src/detection/seeded-random';
import { normalFeedback } from '../../src/feedback/normal-feedback';
import { PipelineSettings } from '../../src/processing/batch-pipeline';
import { generateBatch } from '../../src/producer/batch-generator';
import { PipelineReplayer, readScoredColumns } from './pipeline-replayer';

export interface FeedbackReplayResult {
  batches: number;
  /** Per heater batch: heater rows flagged (of HEATER_ROWS) without and with the feedback. */
  heaterFlagged: { without: number[]; with: number[] };
  /** Heater batches after the feedback until one has no heater row flagged (with feedback). */
  batchesUntilQuiet: number | null;
  /** Row F1 on the generator's anomalies, heater rows left out, without and with the feedback. */
  f1: { without: number; with: number };
}

export const HEATER_ROWS = 3;
export const HEATER_EVERY = 4;
const FIRST_HEATER = 2;

export async function replayWithFeedback(settings: PipelineSettings, batches: number, seed: number): Promise<FeedbackReplayResult> {
  const runs = { without: [] as number[], with: [] as number[] };
  const f1 = { without: 0, with: 0 };
  for (const mode of ['without', 'with'] as const) {
    const rng = createRng(seed);
    const replayer = await PipelineReplayer.create(`feedback-${mode}`, settings);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    try {
      for (let b = 0; b < batches; b++) {
        const { csv, truth } = generateBatch({ rows: 100, start: new Date(Date.UTC(2026, 1, 24) + b * 100 * 60_000), rng, batchIndex: b });
        const lines = csv.trimEnd().split('\n');
        const anomalous = new Set(truth.map((t) => t.row));
        const heater = new Set<number>();
        const heaterBatch = b >= FIRST_HEATER && (b - FIRST_HEATER) % HEATER_EVERY === 0;
        while (heaterBatch && heater.size < HEATER_ROWS) {
          const r = randomInt(rng, 100);
          if (!anomalous.has(r)) heater.add(r);
        }
        for (const r of heater) {
          const cells = lines[r + 1].split(',');
          cells[1] = uniform(rng, 37, 38.5).toFixed(2);
          lines[r + 1] = cells.join(',');
        }
        const key = `raw/heater_${b}.csv`;
        const { scored } = await replayer.replay(key, lines.join('\n') + '\n');
        const cols = readScoredColumns(scored, key);
        let flaggedHeater = 0;
        for (let r = 0; r < 100; r++) {
          if (heater.has(r)) flaggedHeater += cols.anomaly[r];
          else if (anomalous.has(r)) cols.anomaly[r] ? tp++ : fn++;
          else if (cols.anomaly[r]) fp++;
        }
        if (heaterBatch) runs[mode].push(flaggedHeater);
        if (mode === 'with' && b === FIRST_HEATER) {
          const rows = [...heater].filter((r) => cols.anomaly[r]);
          const data = { channels: ['temperature', 'humidity', 'pressure', 'wind_speed'], timestamps: [] as (string | null)[], values: {} as Record<string, (number | null)[]> };
          const body = lines.slice(1).map((l) => l.split(','));
          data.timestamps = body.map((c) => c[0]);
          data.channels.forEach((ch, c) => (data.values[ch] = body.map((cells) => Number(cells[c + 1]))));
          const { contribution } = normalFeedback(data, rows, replayer.state.snapshot(), settings.detection);
          replayer.state.absorb({ key: 'state/feedback/heater.json', etag: 'normal' }, contribution);
        }
      }
    } finally {
      await replayer.close();
    }
    f1[mode] = tp / (tp + (fp + fn) / 2);
  }
  const after = runs.with.slice(1);
  const quiet = after.findIndex((n) => n === 0);
  return { batches, heaterFlagged: runs, batchesUntilQuiet: quiet < 0 ? null : quiet + 1, f1 };
}
