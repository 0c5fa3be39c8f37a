import { AppConfig } from '../config/app-config';
import { relearnAfterOf } from '../baseline/channel-learning';
import { PipelineSettings } from './batch-pipeline';

/**
 * The scoring settings of the service, from its configuration. One place, so that `npm run evaluate`
 * measures the pipeline with exactly the settings the service runs with.
 */
export function pipelineSettings(config: AppConfig): PipelineSettings {
  const { detection, baseline } = config;
  return {
    detection: {
      zThreshold: detection.zThreshold,
      minCount: baseline.minCount,
      trees: detection.trees,
      seed: detection.seed,
      timezone: baseline.timezone,
    },
    channels: detection.channels,
    entityColumn: detection.entityColumn,
    minCount: baseline.minCount,
    relearnAfter: relearnAfterOf(baseline),
  };
}

