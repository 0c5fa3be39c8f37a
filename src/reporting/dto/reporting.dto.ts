import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AnomalyRowDto {
  @ApiProperty({ example: 'processed/sensors_20260224T001051.csv', description: 'The scored file the row comes from' })
  source_file: string;

  @ApiProperty({ example: 17, description: 'The row in source_file (0-based data row), as POST /feedback names rows' })
  row: number;

  @ApiProperty({ example: true })
  anomaly: boolean;

  @ApiPropertyOptional({ example: 'temperature z=6.2; isolation' })
  anomaly_reasons?: string;

  @ApiPropertyOptional({ example: 0.93, description: 'In [0, 1], higher is more anomalous' })
  anomaly_score?: number;

  @ApiPropertyOptional({ example: -0.12, description: 'scikit-learn decision_function convention: below 0 is anomalous' })
  if_score?: number;

  @ApiPropertyOptional({ example: -1, enum: [-1, 1] })
  if_label?: number;
}

export class RecentAnomaliesDto {
  @ApiProperty({ example: 1 })
  count: number;

  @ApiProperty({
    type: [AnomalyRowDto],
    description:
      'Every column of the scored CSV, typed (numbers, booleans, null for empty cells), plus source_file and row. ' +
      'The input columns (timestamp, temperature, ...) and per-channel <ch>_zscore / <ch>_zscore_flag vary with the data.',
    example: [
      {
        timestamp: '2026-02-24T00:40:51.000',
        temperature: 31.4,
        humidity: 54.1,
        pressure: 1012.7,
        wind_speed: 9.8,
        temperature_zscore: 6.21,
        temperature_zscore_flag: true,
        if_label: -1,
        if_score: -0.08,
        if_flag: true,
        anomaly: true,
        anomaly_score: 0.97,
        anomaly_reasons: 'temperature z=6.2; isolation',
        source_file: 'processed/sensors_20260224T001051.csv',
        row: 29,
      },
    ],
  })
  anomalies: AnomalyRowDto[];
}

export class BatchSummaryDto {
  @ApiProperty({ example: 'raw/sensors_20260224T001051.csv' }) source_key: string;
  @ApiProperty({ example: 'processed/sensors_20260224T001051.csv' }) output_key: string;
  @ApiProperty({ example: '2026-02-24T00:11:02.118Z' }) processed_at: string;
  @ApiProperty({ example: 100 }) total_rows: number;
  @ApiProperty({ example: 5 }) anomaly_count: number;
  @ApiProperty({ example: 0.05 }) anomaly_rate: number;
  @ApiPropertyOptional({ example: { temperature: 1200, humidity: 1200 }, type: 'object', additionalProperties: { type: 'number' } })
  baseline_observation_counts?: Record<string, number>;
}

export class AnomalySummaryDto {
  @ApiProperty({ example: 1440 }) files_processed: number;
  @ApiProperty({ example: 144000 }) total_rows_scored: number;
  @ApiProperty({ example: 7130 }) total_anomalies: number;
  @ApiProperty({ example: 0.0495, description: 'total_anomalies / total_rows_scored, 4 decimals' }) overall_anomaly_rate: number;
  @ApiProperty({ type: [BatchSummaryDto], description: 'The 5 newest batch summaries, newest first' }) most_recent: BatchSummaryDto[];
}

export class NoBatchesYetDto {
  @ApiProperty({ example: 'No processed files yet.' }) message: string;
}

export class ErrorDto {
  @ApiProperty({ example: 503 }) statusCode: number;
  @ApiProperty({ example: 'Service Unavailable' }) error: string;
  @ApiProperty({ example: 'Storage is unavailable: ...' }) message: string | string[];
}
