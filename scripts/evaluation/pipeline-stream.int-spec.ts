import { AppConfig } from '../../src/config/app-config';
import { sharedForestFitter } from '../../src/detection/forest-fitter';
import { pipelineSettings } from '../../src/processing/pipeline-settings';
import { runStreamOnDetector } from './detector-stream';
import { readFlags, runStreamThroughPipeline } from './pipeline-stream';
import { STREAMS } from './streams';

afterAll(() => sharedForestFitter.close());

describe('runStreamThroughPipeline', () => {
  it('gives the flags the detector gives when called directly (same baseline folds, same forest)', async () => {
    const settings = pipelineSettings(AppConfig.forTest({}));
    const spec = STREAMS.find((s) => s.name === 'correlated')!;
    // 25 batches: past the first reference-window commit (1,024 rows), so the forest takes part.
    const options = { batches: 25, rows: 100, seed: 3 };
    const viaPipeline = await runStreamThroughPipeline(spec, { ...options, settings });
    const direct = runStreamOnDetector(spec, { ...options, settings: settings.detection, isolation: 'corroborated', relearnAfter: settings.relearnAfter });
    expect(viaPipeline.path).toBe('pipeline');
    expect(viaPipeline.rows).toBe(2500);
    expect(viaPipeline.truePositives).toBeGreaterThan(50);
    expect(viaPipeline.refits).toBeGreaterThan(0);
    const { path: _p, medianBatchMs: _a, ...pipelineCounts } = viaPipeline;
    const { path: _d, medianBatchMs: _b, ...directCounts } = direct;
    expect(pipelineCounts).toEqual(directCounts);
  });
});

describe('readFlags', () => {
  it('reads anomaly and if_flag by name, quoted cells and an input column named anomaly included', () => {
    const csv =
      'timestamp,anomaly,x,x_zscore,x_zscore_flag,if_label,if_score,if_flag,anomaly,anomaly_score,anomaly_reasons\n' +
      't1,yes,1,0.1,False,1,0.2,False,False,0.05,\n' +
      't2,no,9,7.5,True,-1,-0.1,True,True,0.93,"x z=7.5; isolation"\n' +
      't3,no,"1,5",,,1,,False,True,0.6,x robust z=5.0\n';
    const flags = readFlags(csv, 'test.csv');
    expect(Array.from(flags.anomaly)).toEqual([0, 1, 1]);
    expect(Array.from(flags.ifFlag)).toEqual([0, 1, 0]);
    expect(() => readFlags('a,b\n1,2\n', 'plain.csv')).toThrow(/plain.csv: no anomaly column/);
  });
});
