/**
 * Replays one seeded stream on the detector directly, learning each batch with the pipeline's own
 * ContributionBuilder and folding it into the real BaselineState. Only for `npm run evaluate --
 * --ablation`: it can switch the isolation rule (DetectorOptions.isolation), which the pipeline does
 * not expose. Counting is the shared StreamCounter's.
 */
import { BaselineState } from '../../src/baseline/baseline-state';
import { inferChannels, parseNumber } from '../../src/detection/channel-inference';
import { DetectionSettings } from '../../src/detection/detection.types';
import { createDetector, IsolationRule, SampleRow } from '../../src/detection/detector';
import { ForestModelCache } from '../../src/detection/forest-model';
import { deseasonalise } from '../../src/detection/season-profile';
import { createRng } from '../../src/detection/seeded-random';
import { RelearnAfter } from '../../src/baseline/channel-learning';
import { ContributionBuilder, LearningStart } from '../../src/processing/contribution-builder';
import { parseTimestamp } from '../../src/processing/timestamp-parser';
import { StreamCounter, StreamResult } from './stream-counter';
import { batchKey, StreamOptions, StreamSpec, streamBatch } from './streams';

export interface DetectorStreamOptions extends StreamOptions {
  settings: DetectionSettings;
  isolation: IsolationRule;
  relearnAfter?: RelearnAfter;
}

export function runStreamOnDetector(spec: StreamSpec, options: DetectorStreamOptions): StreamResult {
  const rng = createRng(options.seed);
  const state = BaselineState.empty({ minCount: options.settings.minCount, includeAnomalies: false, halfLife: options.halfLife, relearnAfter: options.relearnAfter });
  const cache = new ForestModelCache();
  const counter = new StreamCounter(spec, { path: 'detector', isolation: options.isolation, halfLife: options.halfLife });
  let channels: string[] | undefined;
  let indices: number[] = [];
  let timeIndex = -1;
  let lastModelKey: string | undefined;

  for (let b = 0; b < options.batches; b++) {
    const { csv, truth } = streamBatch(spec, rng, b, options.rows);
    const lines = csv.trimEnd().split('\n').map((l) => l.split(','));
    const header = lines[0];
    const body = lines.slice(1);
    if (!channels) {
      const inference = inferChannels(header, body.slice(0, 200));
      channels = inference.channels;
      indices = inference.indices;
      timeIndex = inference.timeIndex;
    }
    const n = channels.length;
    const values = new Float64Array(body.length * n);
    body.forEach((cells, r) => indices.forEach((i, c) => (values[r * n + c] = parseNumber(cells[i]))));
    const sample: SampleRow[] = body.map((_, r) => ({ values: values.subarray(r * n, (r + 1) * n) }));

    const t0 = performance.now();
    const snapshot = state.snapshot();
    const detector = createDetector(snapshot, channels, options.settings, { cache, coldStartSample: sample, isolation: options.isolation });
    const start = (channel: string): LearningStart | undefined => (snapshot as { learningStart?: (c: string) => LearningStart | undefined }).learningStart?.(channel);
    const builder = new ContributionBuilder(channels, { models: (e) => detector.channelModels(e), start, relearnAfter: options.relearnAfter });
    const times = body.map((cells) => (timeIndex >= 0 ? parseTimestamp(cells[timeIndex]) : NaN));
    deseasonalise(values, body.length, detector.channelModels(undefined).map((m) => m.season), times);
    const anomaly = new Uint8Array(body.length);
    const ifFlag = new Uint8Array(body.length);
    detector.scoreBatch(values, body.length, undefined, (r, s) => {
      anomaly[r] = s.anomaly ? 1 : 0;
      ifFlag[r] = s.ifFlag ? 1 : 0;
      builder.add(values, r * n, undefined, s, r + 2, times[r]);
    });
    const ms = performance.now() - t0;
    const key = detector.model?.key;
    counter.addTiming(ms, key !== undefined && key !== lastModelKey);
    lastModelKey = key;

    counter.addBatch(b, body.length, truth, { anomaly, ifFlag });
    state.absorb({ key: batchKey(spec, b), etag: 'evaluate' }, builder.build());
  }
  return counter.result();
}
