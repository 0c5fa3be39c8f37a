import { ApiProperty } from '@nestjs/swagger';
import { MAX_SERIES_FILES } from '../reporting-index.service';
import { IntQueryParam } from './int-query-param';
import { BatchSummaryDto } from './reporting.dto';

export class RecentBatchesQuery {
  @IntQueryParam('files', 1, MAX_SERIES_FILES, 20, 'How many of the newest batches')
  files: number = 20;
}

export class ScoredSeriesDto {
  @ApiProperty({ example: ['temperature', 'humidity'] }) channels: string[];
  @ApiProperty({ example: ['2026-02-24T00:10:51.000'], type: [String], nullable: true }) timestamps: (string | null)[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'number', nullable: true } }, example: { temperature: [22.58] } })
  values: Record<string, (number | null)[]>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'boolean' } }, example: { temperature: [false] } })
  zscoreFlags: Record<string, boolean[]>;
  @ApiProperty({ type: [Boolean], example: [false] }) anomaly: boolean[];
  @ApiProperty({ type: [String], example: [''] }) reasons: string[];
  @ApiProperty({ description: 'True when the file had more rows than the 1,000 returned' }) truncated: boolean;
}

export class RecentBatchDto {
  @ApiProperty({ type: BatchSummaryDto }) summary: BatchSummaryDto;
  @ApiProperty({ type: ScoredSeriesDto }) series: ScoredSeriesDto;
}
