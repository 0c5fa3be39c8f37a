import { AppConfig } from '../config/app-config';
import { pipelineSettings } from './pipeline-settings';

describe('pipelineSettings', () => {
  it('takes the defaults from the configuration', () => {
    expect(pipelineSettings(AppConfig.forTest({}))).toEqual({
      detection: { zThreshold: 3, minCount: 30, trees: 100, seed: 42, timezone: 'UTC' },
      channels: [],
      entityColumn: undefined,
      minCount: 30,
      relearnAfter: { ms: 2 * 3600_000, rows: 1000, minRows: 30 },
    });
  });

  it('follows the environment: thresholds, maturity, forest, channels, entity, re-learning, time zone', () => {
    const s = pipelineSettings(
      AppConfig.forTest({
        Z_THRESHOLD: '4',
        BASELINE_MIN_COUNT: '50',
        IF_TREES: '20',
        RANDOM_SEED: '7',
        CHANNELS: 'a, b',
        ENTITY_COLUMN: 'host',
        BASELINE_RELEARN_AFTER: '90m',
        BASELINE_RELEARN_ROWS: '400',
        TIMEZONE: 'America/New_York',
      }),
    );
    expect(s).toEqual({
      detection: { zThreshold: 4, minCount: 50, trees: 20, seed: 7, timezone: 'America/New_York' },
      channels: ['a', 'b'],
      entityColumn: 'host',
      minCount: 50,
      relearnAfter: { ms: 90 * 60_000, rows: 400, minRows: 50 },
    });
  });
});
