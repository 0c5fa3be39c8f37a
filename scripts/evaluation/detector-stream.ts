/**
 * Replays one seeded stream on the detector directly, folding each batch into the baseline with
 * `foldBatch`. Only for `npm run evaluate -- --ablation`: it can switch the isolation rule
 * (DetectorOptions.isolation), which the pipeline does not expose. Counting is the shared
 * StreamCounter's.
 */
import { BaselineState } from '../../src/baseline/baseline-state';
import { inferChannels, parseNumber } from '../../src/detection/channel-inference';
import { DetectionSettings } from '../../src/detection/detection.types';
import { createDetector, IsolationRule, SampleRow } from '../../src/detection/detector';
import { ForestModelCache } from '../../src/detection/forest-model';
import { createRng } from '../../src/detection/seeded-random';
import { foldBatch } from './fold';
import { StreamCounter, StreamResult } from './stream-counter';
import { batchKey, StreamOptions, StreamSpec, streamBatch } from './streams';

export interface DetectorStreamOptions extends StreamOptions {
  settings: DetectionSettings;
  isolation: IsolationRule;
}

export function runStreamOnDetector(spec: StreamSpec, options: DetectorStreamOptions): StreamResult {
  const rng = createRng(options.seed);
  const state = BaselineState.empty({ minCount: options.settings.minCount, includeAnomalies: false, halfLife: options.halfLife });
  const cache = new ForestModelCache();
  const counter = new StreamCounter(spec, { path: 'detector', isolation: options.isolation, halfLife: options.halfLife });
  let channels: string[] | undefined;
  let indices: number[] = [];
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
    }
    const n = channels.length;
    const values = new Float64Array(body.length * n);
    body.forEach((cells, r) => indices.forEach((i, c) => (values[r * n + c] = parseNumber(cells[i]))));
    const sample: SampleRow[] = body.map((_, r) => ({ values: values.subarray(r * n, (r + 1) * n) }));

    const t0 = performance.now();
    const detector = createDetector(state.snapshot(), channels, options.settings, { cache, coldStartSample: sample, isolation: options.isolation });
    const channelAnomalous = new Int8Array(body.length * n);
    const anomaly = new Uint8Array(body.length);
    const ifFlag = new Uint8Array(body.length);
    detector.scoreBatch(values, body.length, undefined, (r, s) => {
      anomaly[r] = s.anomaly ? 1 : 0;
      ifFlag[r] = s.ifFlag ? 1 : 0;
      channelAnomalous.set(s.channelAnomalous, r * n);
    });
    const ms = performance.now() - t0;
    const key = detector.model?.key;
    counter.addTiming(ms, key !== undefined && key !== lastModelKey);
    lastModelKey = key;

    counter.addBatch(b, body.length, truth, { anomaly, ifFlag });
    foldBatch(state, { key: batchKey(spec, b), channels, values, rows: body.length, channelAnomalous, anomaly });
  }
  return counter.result();
}
