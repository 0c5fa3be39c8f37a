/**
 * Properties the detector must have on real data, checked on the development sets through the real
 * pipeline (a fresh service per series, 100-row batches). The full figures come from
 * `npm run evaluate -- --real ../shared/data`; these are the floors that must never give way.
 */
import * as path from 'node:path';
import { AppConfig } from '../../src/config/app-config';
import { BaselineState } from '../../src/baseline/baseline-state';
import { sharedForestFitter } from '../../src/detection/forest-fitter';
import { pipelineSettings } from '../../src/processing/pipeline-settings';
import { describeWithData, devDataDir } from './dev-data';
import { loadNab, loadSkab } from './real-data';
import { replaySeries } from './series-replay';

const config = AppConfig.forTest({});
const settings = pipelineSettings(config);
const baseline = BaselineState.optionsFrom(config.baseline);

afterAll(() => sharedForestFitter.close());

describeWithData('detection on real series', devDataDir(), () => {
  it("flags at most 1 % of the rows of NAB's all-normal series after its probationary period", async () => {
    for (const s of loadNab(path.join(devDataDir(), 'nab-dev'), (n) => n.startsWith('artificialNoAnomaly/'))) {
      const v = await replaySeries(s, settings, 100, baseline);
      let flagged = 0;
      for (let r = s.scoreFrom; r < s.rows.length; r++) flagged += v.anomaly[r];
      expect([s.name, flagged / (s.rows.length - s.scoreFrom) <= 0.01]).toEqual([s.name, true]);
    }
  });

  it('on the pump testbed: few normal rows flagged, the quantised pressure never locked out, the valve closures found', async () => {
    const experiments = loadSkab(path.join(devDataDir(), 'skab-dev')).slice(0, 4);
    let normal = 0;
    let falseFlags = 0;
    let anomalous = 0;
    let found = 0;
    for (const s of experiments) {
      const v = await replaySeries(s, settings, 100, baseline);
      for (let r = s.scoreFrom; r < s.rows.length; r++) {
        if (s.labels[r]) {
          anomalous++;
          found += v.anomaly[r];
        } else {
          normal++;
          falseFlags += v.anomaly[r];
          // Pressure takes a handful of ADC values: a step among them is never a reason.
          expect(v.reasons[r]).not.toMatch(/Pressure/);
        }
      }
    }
    expect(falseFlags / normal).toBeLessThanOrEqual(0.05);
    expect(found / anomalous).toBeGreaterThanOrEqual(0.15);
  });
});
